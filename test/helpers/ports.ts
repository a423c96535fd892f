import { createServer } from "node:net";

/** Whether a loopback TCP port can be bound now. */
export const bindable = (port: number) =>
  new Promise<boolean>((res) => {
    const s = createServer()
      .once("error", () => res(false))
      .listen(port, "127.0.0.1", () => s.close(() => res(true)));
  });

/** A `cluster up --port-base` whose nine ports (clients base.., routes base+2000.., monitoring base+4000..) are all free. */
export async function freePortBase(): Promise<number> {
  for (;;) {
    const base = 20_000 + Math.floor(Math.random() * 9_000);
    const ports = [0, 1, 2].flatMap((i) => [base + i, base + 2000 + i, base + 4000 + i]);
    if ((await Promise.all(ports.map(bindable))).every(Boolean)) return base;
  }
}
