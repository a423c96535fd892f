import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Kvm } from "@nats-io/kv";
import { StateStore } from "../../runtime/actor/state/store.ts";
import { tokenFor } from "../../runtime/events/subjects.ts";
import { Buckets, StateKeys } from "../../runtime/topology.ts";
import { runJetbus } from "../helpers/cli.ts";
import { startServer } from "../helpers/nats.ts";

let env: Awaited<ReturnType<typeof startServer>>;
const dir = mkdtempSync(join(tmpdir(), "jetbus-check-state-"));
test.after(async () => {
  await env?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test("jetbus check --counter-state reads the actor's state bucket: exact counts pass, one count off fails with the key", async () => {
  env = await startServer();
  await StateStore.open(env.nc, "counter", { replicas: 1 });
  const kv = await new Kvm(env.nc).open(Buckets.state("counter"));
  const setCount = (key: string, n: number) => kv.put(StateKeys.state(tokenFor(key)), JSON.stringify({ n }));
  const acked = [
    { id: "e1", key: "k0" },
    { id: "e2", key: "k0" },
    { id: "e3", key: "k1" },
  ];
  writeFileSync(join(dir, "acked.jsonl"), acked.map((a) => JSON.stringify(a)).join("\n") + "\n");
  const check = (actor: string) =>
    runJetbus(["check", "--servers", env.server.url, "--acked", join(dir, "acked.jsonl"), "--counter-state", actor, "--json"]);
  await setCount("k0", 2);
  await setCount("k1", 1);
  const ok = await check("counter");
  assert.is(ok.code, 0, ok.stderr);
  const v = JSON.parse(ok.stdout.trim()) as { valid: boolean; state: unknown };
  assert.equal(v.state, { actor: "counter", keys: 2, events: 3, mismatches: [], valid: true });
  assert.is(v.valid, true);

  await setCount("k1", 2); // one change committed twice
  const bad = await check("counter");
  assert.is(bad.code, 1);
  const w = JSON.parse(bad.stdout.trim()) as { valid: boolean; state: { mismatches: unknown[] } };
  assert.equal(w.state.mismatches, [{ key: "k1", expected: 1, actual: 2 }]);
  assert.is(w.valid, false);

  const none = await check("no-such-actor");
  assert.is(none.code, 1);
  assert.match(none.stderr, /no-such-actor.*no state bucket/);
});

test.run();
