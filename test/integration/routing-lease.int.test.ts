import { test } from "uvu";
import * as assert from "uvu/assert";
import type { KV } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import { connectNats } from "../../runtime/nats/connect.ts";
import { createLogger } from "../../runtime/log.ts";
import { Lease, openLeaseBucket, type LeaseTiming } from "../../runtime/routing/lease.ts";
import { startServer } from "../helpers/nats.ts";
import { waitFor } from "../helpers/wait.ts";

// short but proportioned like the defaults (10s / 3s / 2s / 1s)
const timing: LeaseTiming = { ttlMs: 2_000, renewEveryMs: 500, renewTimeoutMs: 400, retryEveryMs: 100 };
const logger = createLogger({ level: process.env.JETBUS_LOG_LEVEL ?? "silent", pretty: false });
const KEY = "test-lease";

type Contender = { lease: Lease; events: string[]; nc: NatsConnection };

async function contender(url: string, name: string): Promise<Contender> {
  const nc = await connectNats({ servers: url, name });
  const kv = await openLeaseBucket(nc, 1, timing.ttlMs);
  const events: string[] = [];
  const lease = new Lease(nc, kv, KEY, name, { onAcquired: () => events.push("acquired"), onLost: (r) => events.push(`lost: ${r}`) }, logger, timing);
  return { lease, events, nc };
}

async function holderOf(kv: KV): Promise<string | null> {
  const e = await kv.get(KEY);
  return e && e.operation === "PUT" ? (JSON.parse(e.string()) as { holder: string }).holder : null;
}

test("one holder at a time; renewals keep it past the TTL; a graceful stop hands it over at once", async () => {
  const { server, nc, stop } = await startServer();
  const all: Contender[] = [];
  try {
    const kv = await openLeaseBucket(nc, 1, timing.ttlMs);
    for (const name of ["a", "b", "c"]) all.push(await contender(server.url, name));
    for (const c of all) c.lease.start();
    await waitFor(() => all.some((c) => c.lease.held), "someone acquires");
    const first = all.find((c) => c.lease.held)!;
    assert.is(await holderOf(kv), first.lease.holder);

    // well past the TTL: still the same single holder, renewed by compare-and-set
    const revisionBefore = (await kv.get(KEY))!.revision;
    await waitFor(async () => (await kv.get(KEY))!.revision >= revisionBefore + 5, "five renewals (> 2 TTLs)", 10_000);
    assert.is(all.filter((c) => c.lease.held).length, 1, "exclusive");
    assert.equal(first.events, ["acquired"], "never lost while renewing");
    assert.is(await holderOf(kv), first.lease.holder);

    const started = Date.now();
    await first.lease.stop();
    assert.equal(first.events, ["acquired", "lost: released"]);
    const second = await waitFor(() => all.find((c) => c !== first && c.lease.held), "a standby takes over");
    assert.ok(Date.now() - started < timing.ttlMs, "a released lease does not wait for the TTL");
    assert.is(all.filter((c) => c.lease.held).length, 1);
    assert.is(await holderOf(kv), second.lease.holder);
  } finally {
    for (const c of all) {
      await c.lease.stop();
      await c.nc.close();
    }
    await stop();
  }
});

test("a holder that stops renewing (connection gone) is taken over after the TTL; it knew before the TTL", async () => {
  const { server, nc, stop } = await startServer();
  const all: Contender[] = [];
  try {
    const kv = await openLeaseBucket(nc, 1, timing.ttlMs);
    all.push(await contender(server.url, "a"));
    all[0]!.lease.start();
    await waitFor(() => all[0]!.lease.held, "a acquires");
    all.push(await contender(server.url, "b"));
    all[1]!.lease.start();

    // a's connection dies without a release: the key is only freed by expiry
    const killedAt = Date.now();
    await all[0]!.nc.close();
    await waitFor(() => !all[0]!.lease.held, "a notices at once", 1_000);
    assert.match(all[0]!.events[1]!, /^lost: /);
    assert.ok(Date.now() - killedAt < timing.ttlMs);
    assert.is(await holderOf(kv), "a", "the key still names a until it expires");
    assert.not.ok(all[1]!.lease.held, "b waits for the expiry");

    await waitFor(() => all[1]!.lease.held, "b takes over after the TTL", 10_000);
    const after = Date.now() - killedAt;
    assert.ok(after >= timing.ttlMs - 500, `not before the key expired (${after} ms)`);
    assert.is(await holderOf(kv), "b");
  } finally {
    for (const c of all) {
      await c.lease.stop();
      await c.nc.close().catch(() => undefined);
    }
    await stop();
  }
});

test("a holder whose compare-and-set renewal fails stops at once", async () => {
  const { server, nc, stop } = await startServer();
  let a: Contender | undefined;
  try {
    const kv = await openLeaseBucket(nc, 1, timing.ttlMs);
    a = await contender(server.url, "a");
    a.lease.start();
    await waitFor(() => a!.lease.held, "a acquires");
    // someone overwrites the key (as if it had expired and another process created it)
    await kv.put(KEY, JSON.stringify({ holder: "intruder" }));
    await waitFor(() => !a!.lease.held, "a gives up at its next renewal", timing.renewEveryMs + timing.renewTimeoutMs + 500);
    assert.match(a.events[1]!, /^lost: renewal failed/);
    assert.is(await holderOf(kv), "intruder", "a never wrote over the new holder");
    // its own old revision is gone for good: it competes by create like anyone else
    await kv.delete(KEY);
    await waitFor(() => a!.lease.held, "a acquires once the key is free", 5_000);
    assert.is(await holderOf(kv), "a");
  } finally {
    await a?.lease.stop();
    await a?.nc.close();
    await stop();
  }
});

test("after a connection blip the holder takes its untouched lease straight back, before the TTL, ahead of standbys", async () => {
  const { server, nc, stop } = await startServer();
  const all: Contender[] = [];
  try {
    const kv = await openLeaseBucket(nc, 1, timing.ttlMs);
    for (const name of ["a", "b"]) all.push(await contender(server.url, name));
    all[0]!.lease.start();
    await waitFor(() => all[0]!.lease.held, "a acquires");
    all[1]!.lease.start();
    const blipAt = Date.now();
    await all[0]!.nc.reconnect();
    await waitFor(() => all[0]!.events.length === 3, "a lost and re-acquired it", timing.ttlMs).catch((err) => { throw new Error(`${err.message}: ${JSON.stringify(all.map((c) => c.events))} after ${Date.now() - blipAt} ms`); });
    assert.ok(Date.now() - blipAt < timing.ttlMs, "without waiting for the key to expire");
    assert.equal(all[0]!.events.map((e) => e.replace(/:.*/, "")), ["acquired", "lost", "acquired"]);
    assert.match(all[0]!.events[1]!, /connection (disconnect|reconnecting)/);
    assert.not.ok(all[1]!.lease.held);
    assert.equal(all[1]!.events, [], "the standby never held it");
    assert.is(await holderOf(kv), "a");
  } finally {
    for (const c of all) {
      await c.lease.stop();
      await c.nc.close();
    }
    await stop();
  }
});

test("timing that cannot notice a loss before expiry is refused", async () => {
  assert.throws(() => new Lease({} as NatsConnection, {} as KV, KEY, "x", { onAcquired() {}, onLost() {} }, logger, { ttlMs: 1000, renewEveryMs: 800, renewTimeoutMs: 300, retryEveryMs: 100 }), /below ttlMs/);
});

test.run();
