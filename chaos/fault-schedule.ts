// The faults of a run, one after the other on the seeded plan: each injected on a healthy stream,
// held, healed, then a seeded recovery pause; at the end every fault rule and the proxy's delay removed.
import type { NatsConnection } from "@nats-io/transport-node";
import { FaultInjector, planFaults, sleep } from "./faults.ts";
import type { Profile } from "./profiles.ts";
import { Rng } from "./rng.ts";
import { waitHealthy } from "./stream-health.ts";

export type Schedule = Readonly<{
  injector: FaultInjector;
  /** The harness's connection and the store's stream, whose health gates each fault. */
  nc: NatsConnection;
  stream: string;
  profile: Profile;
  seed: number;
  setProxyDelay(ms: number): void;
  log(line: string): void;
}>;

export async function runFaults({ injector, nc, stream, profile, seed, setProxyDelay, log }: Schedule): Promise<void> {
  const rng = new Rng(seed);
  const plan = planFaults(rng, profile.extraFaults);
  log(`faults planned: ${plan.map((f) => f.kind).join(", ")}`);
  for (const [i, f] of plan.entries()) {
    if (!(await waitHealthy(nc, stream, 60_000))) log(`${stream} not fully healthy before fault ${i + 1}; injecting anyway`);
    const r = await injector.run(f);
    log(`fault ${i + 1}/${plan.length}: ${r.kind} ${r.target} for ${r.end - r.start} ms${r.pid ? ` (pid ${r.pid})` : ""}`);
    await sleep(rng.int(...profile.recoveryMs));
  }

  injector.heal();
  setProxyDelay(0);
  await waitHealthy(nc, stream, 60_000);
}
