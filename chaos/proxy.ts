// A delaying TCP proxy: this kernel has no netem qdisc, so delay on one link is a proxy in its own
// network namespace that every byte of that link crosses. `node --import tsx chaos/proxy.ts
// LISTEN_HOST:PORT TARGET_HOST:PORT`; a line `delay N` on stdin sets the one-way delay to N ms
// (both directions). Bytes keep their order whatever the delay does: each chunk leaves no earlier
// than the one before it.
import { createServer, connect, type Socket } from "node:net";
import { createInterface } from "node:readline";

const [listen, target] = process.argv.slice(2);
if (!listen || !target) {
  process.stderr.write("usage: proxy.ts LISTEN_HOST:PORT TARGET_HOST:PORT\n");
  process.exit(2);
}
const split = (hp: string) => {
  const i = hp.lastIndexOf(":");
  return { host: hp.slice(0, i), port: Number(hp.slice(i + 1)) };
};
const from = split(listen);
const to = split(target);
let delayMs = 0;

/** Forwards `src` to `dst`, each chunk `delayMs` late and never before the previous chunk. */
function pipeDelayed(src: Socket, dst: Socket): void {
  const queue: { due: number; chunk: Buffer }[] = [];
  let timer: NodeJS.Timeout | undefined;
  let lastDue = 0;
  const flush = () => {
    timer = undefined;
    const now = Date.now();
    while (queue.length && queue[0]!.due <= now) dst.write(queue.shift()!.chunk);
    if (queue.length) timer = setTimeout(flush, queue[0]!.due - now);
    else if (src.readableEnded) dst.end();
  };
  src.on("data", (chunk: Buffer) => {
    if (delayMs === 0 && queue.length === 0) {
      dst.write(chunk);
      return;
    }
    lastDue = Math.max(Date.now() + delayMs, lastDue);
    queue.push({ due: lastDue, chunk });
    if (!timer) timer = setTimeout(flush, Math.max(0, queue[0]!.due - Date.now()));
  });
  src.on("end", () => {
    if (queue.length === 0) dst.end();
  });
}

const server = createServer((down) => {
  const up = connect(to.port, to.host);
  const close = () => {
    down.destroy();
    up.destroy();
  };
  down.on("error", close).on("close", close);
  up.on("error", close).on("close", close);
  pipeDelayed(down, up);
  pipeDelayed(up, down);
});
server.listen(from.port, from.host, () => process.stdout.write(`listening ${listen} -> ${target}\n`));

createInterface({ input: process.stdin }).on("line", (line) => {
  const m = /^delay (\d+)$/.exec(line.trim());
  if (m) {
    delayMs = Number(m[1]);
    process.stdout.write(`delay ${delayMs}\n`);
  }
});
// the harness holds stdin: when it goes away, so does the proxy
process.stdin.on("end", () => process.exit(0));
