import { test } from "uvu";
import * as assert from "uvu/assert";
import { startServer } from "../helpers/nats.ts";
import { StateStore } from "../../runtime/actor/state/store.ts";
import { commitChange } from "../fixtures/state-change.ts";

let env: Awaited<ReturnType<typeof startServer>>;
test.before(async () => {
  env = await startServer();
});
test.after(async () => {
  await env?.stop();
});

const change = commitChange;

test("list reads every key's state, revision and event in one pass; deleted keys are left out", async () => {
  const store = await StateStore.open(env.nc, "list-a", { replicas: 1 });
  assert.equal(await store.list(), { entries: [], total: 0 }, "an empty bucket");
  const last = new Map<string, string>();
  for (let i = 0; i < 30; i++) {
    const key = `k${i % 6}`;
    last.set(key, await change(store, key, { kind: "set", value: { n: Math.floor(i / 6) + 1 } }));
  }
  await change(store, "k5", { kind: "delete" });
  // keys that are not plain tokens: the listing decodes them back
  last.set("order 42/ä.x", await change(store, "order 42/ä.x", { kind: "set", value: { n: 1 } }));
  const { entries, total } = await store.list();
  assert.is(total, 6);
  assert.equal(
    entries.map((e) => e.key),
    ["k0", "k1", "k2", "k3", "k4", "order 42/ä.x"],
  );
  for (const e of entries) {
    const read = await store.read(e.key);
    assert.equal(e.value, read.value, `${e.key}: the value a read gives`);
    assert.is(e.revision, read.revision, `${e.key}: the revision a read gives`);
    assert.is(e.eventId, last.get(e.key), `${e.key}: the event that wrote it`);
    assert.ok(Math.abs(e.time.getTime() - Date.now()) < 60_000);
  }
  assert.equal(await store.keys(), ["k0", "k1", "k2", "k3", "k4", "order 42/ä.x"]);
  // a limit keeps the most recently changed keys, and the total still counts them all
  const two = await store.list(2);
  assert.is(two.total, 6);
  assert.equal(
    two.entries.map((e) => e.key),
    ["k4", "order 42/ä.x"],
  );
  // a key's history, one read: every revision with its event, the delete included
  const history = await store.history("k5");
  assert.equal(
    history.map((h) => [h.deleted, h.value]),
    [
      [false, { n: 1 }],
      [false, { n: 2 }],
      [false, { n: 3 }],
      [false, { n: 4 }],
      [false, { n: 5 }],
      [true, undefined],
    ],
  );
  assert.ok(history.every((h) => h.eventId?.startsWith("ev-")));
  assert.equal(await store.history("never-written"), []);
});

test("list finds every key while the keys are being changed (a busy actor's bucket)", async () => {
  const store = await StateStore.open(env.nc, "list-b", { replicas: 1 });
  const KEYS = 20;
  for (let k = 0; k < KEYS; k++) await change(store, `k${k}`, { kind: "set", value: { n: 0 } });
  let writing = true;
  const writer = (async () => {
    for (let i = 1; writing; i++)
      await Promise.all(Array.from({ length: KEYS }, (_, k) => change(store, `k${k}`, { kind: "set", value: { n: i } })));
  })();
  const short: number[] = [];
  try {
    for (let r = 0; r < 30; r++) {
      const { entries, total } = await store.list();
      if (entries.length !== KEYS || total !== KEYS) short.push(entries.length);
    }
  } finally {
    writing = false;
    await writer;
  }
  assert.equal(short, [], "listings that missed keys (their sizes)");
});

test.run();
