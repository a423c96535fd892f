import { test } from "uvu";
import * as assert from "uvu/assert";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { headers as natsHeaders } from "@nats-io/transport-node";
import { startServer } from "../helpers/nats.ts";
import { waitFor } from "../helpers/wait.ts";
import { startRouter, type RouterHandle } from "../../runtime/routing/router.ts";
import { Consumers, JetbusHeaders, Streams, partitionOf } from "../../runtime/topology.ts";
import { event, header, json, messageCount, publishEvents, readAll, routerDeps, testConfig } from "../fixtures/router-support.ts";

const config = testConfig({
  actors: [{ name: "audit" }, { name: "mailer" }, { name: "ledger", ordered: { key: "data.account", partitions: 3 } }],
  routes: {
    rules: [
      {
        name: "signups",
        match: { type: "User*" },
        to: ["audit", "mailer"],
        transform: { pick: ["user.email", "user.name"], rename: { "user.email": "to" }, set: { template: "welcome" } },
      },
      { name: "accounts-audit", match: { type: "Account.>" }, to: ["audit"] },
      {
        name: "big-payments",
        match: { type: "Payment", data: { all: [{ gte: { amount: 1000 } }, { regex: { currency: "^(EUR|USD)$" } }] } },
        to: ["ledger", "audit"],
      },
      { name: "small-payments", match: { type: "Payment", source: "shop*", data: { lt: { amount: 1000 } } }, to: ["ledger"] },
    ],
  },
});

test("routes to inboxes with fan-out, transforms, headers, unrouted and quarantine; acks everything", async () => {
  const { nc, stop } = await startServer();
  let router: RouterHandle | undefined;
  try {
    const deps = routerDeps(nc, config);
    router = await startRouter(deps, { heartbeatMs: 500 });
    assert.ok(router.revision >= 1, "seeded its file config into KV and runs that revision");

    const signup = event("UserSignedUp", { user: { email: "a@b.c", name: "Ann", password: "x" } }, { correlationid: "flow-1" });
    const big = event("Payment", { amount: 5000, currency: "EUR", account: "acc-1" }, { source: "shop-eu" });
    const small = event("Payment", { amount: 10, currency: "EUR", account: "acc-1" }, { source: "shop-eu" });
    const smallElsewhere = event("Payment", { amount: 10, currency: "EUR", account: "acc-1" }, { source: "pos" });
    const nested = event("Account.Closed", { id: 7 });
    const [seqSignup] = await publishEvents(nc, [signup, big, small, smallElsewhere, nested]);

    const js = jetstream(nc);
    // a raw JSON publish (nats CLI style) is routed too; an undecodable one is quarantined
    const rawHeaders = natsHeaders();
    rawHeaders.set("Nats-Msg-Id", "raw-1");
    await js.publish("events.UserInvited", new TextEncoder().encode(JSON.stringify({ user: { email: "r@x.y" } })), { headers: rawHeaders });
    const badBytes = new TextEncoder().encode("{not json");
    const badHeaders = natsHeaders();
    badHeaders.set("ce-specversion", "1.0");
    badHeaders.set("ce-type", "Broken");
    badHeaders.set("x-keep", "me");
    await js.publish("events.Broken", badBytes, { headers: badHeaders });

    const jsm = await jetstreamManager(nc);
    await waitFor(
      async () => {
        const ci = await jsm.consumers.info(config.store.stream, Consumers.router);
        return ci.num_pending === 0 && ci.num_ack_pending === 0 && ci.ack_floor.stream_seq === 7;
      },
      "router acked all 7 events",
      30_000,
    );

    const inbox = await readAll(nc, Streams.Inbox);
    const ids = inbox.map((m) => header(m, "Nats-Msg-Id"));
    assert.is(new Set(ids).size, ids.length, "each copy once");
    // signup: audit + mailer via "signups" (transformed); nested: audit via all-users-audit; raw: audit + mailer
    const copy = (id: string) => inbox.find((m) => header(m, "Nats-Msg-Id") === id);
    const toAudit = copy(`${signup.id}:audit`)!;
    assert.ok(toAudit, "signup copy in audit's inbox");
    assert.is(toAudit.subject, "actors.audit.0");
    assert.equal(json(toAudit), { to: "a@b.c", user: { name: "Ann" }, template: "welcome" });
    assert.is(header(toAudit, "ce-id"), signup.id);
    assert.is(header(toAudit, "ce-type"), "UserSignedUp");
    assert.is(header(toAudit, "ce-correlationid"), "flow-1");
    assert.is(header(toAudit, JetbusHeaders.OriginSeq), String(seqSignup));
    assert.is(header(toAudit, JetbusHeaders.Rule), "signups");
    assert.is(header(toAudit, JetbusHeaders.ConfigRevision), String(router.revision));
    assert.ok(copy(`${signup.id}:mailer`));
    assert.is(header(copy(`${nested.id}:audit`)!, JetbusHeaders.Rule), "accounts-audit");
    assert.equal(json(copy("raw-1:mailer")!), { to: "r@x.y", user: {}, template: "welcome" });
    // payments: big -> ledger + audit untransformed; small from shop -> ledger; small from pos -> unrouted
    assert.equal(json(copy(`${big.id}:audit`)!), { amount: 5000, currency: "EUR", account: "acc-1" });
    const ledgerBig = copy(`${big.id}:ledger`)!;
    assert.is(ledgerBig.subject, `actors.ledger.${partitionOf("acc-1", 3)}`);
    assert.ok(copy(`${small.id}:ledger`));
    assert.not.ok(inbox.some((m) => header(m, "ce-id") === smallElsewhere.id));
    assert.is(inbox.length, 8, inbox.map((m) => `${m.subject} ${header(m, "Nats-Msg-Id")} ${header(m, "ce-type")}`).join("; "));

    const unrouted = await readAll(nc, Streams.Unrouted);
    assert.equal(
      unrouted.map((m) => [m.subject, header(m, "ce-id")]),
      [["unrouted.Payment", smallElsewhere.id]],
    );
    assert.is(header(unrouted[0]!, JetbusHeaders.OriginSeq), "4");

    const quarantined = await readAll(nc, Streams.Quarantine);
    assert.is(quarantined.length, 1);
    assert.is(quarantined[0]!.subject, "quarantine.events.Broken");
    assert.equal(Array.from(quarantined[0]!.data), Array.from(badBytes), "original bytes kept");
    assert.is(header(quarantined[0]!, "x-keep"), "me", "original headers kept");
    assert.match(header(quarantined[0]!, JetbusHeaders.Reason), /not valid JSON/);

    const metrics = await deps.metrics.registry.getMetricsAsJSON();
    const value = (name: string) => metrics.find((m) => m.name === name)!.values.reduce((n, v) => n + v.value, 0);
    assert.is(value("jetbus_router_routed_total"), 8);
    assert.is(value("jetbus_router_unrouted_total"), 1);
    assert.is(value("jetbus_router_quarantined_total"), 1);
  } finally {
    await router?.stop();
    await stop();
  }
});

test("ordered actor: copies of one key reach its partition in stream order", async () => {
  const { nc, stop } = await startServer();
  let router: RouterHandle | undefined;
  try {
    router = await startRouter(routerDeps(nc, config), { maxInFlight: 64 });
    const events = Array.from({ length: 60 }, (_, i) => event("Payment", { amount: 2000 + i, currency: "USD", account: `acc-${i % 4}` }));
    await publishEvents(nc, events);
    await waitFor(async () => (await messageCount(nc, Streams.Inbox)) === 120, "120 copies (ledger + audit)", 30_000);
    const ledger = (await readAll(nc, Streams.Inbox)).filter((m) => m.subject.startsWith("actors.ledger."));
    assert.is(ledger.length, 60);
    for (let k = 0; k < 4; k++) {
      const amounts = ledger
        .filter((m) => (json(m) as { account: string }).account === `acc-${k}`)
        .map((m) => (json(m) as { amount: number }).amount);
      assert.equal(
        amounts,
        [...amounts].sort((a, b) => a - b),
        `acc-${k} in order`,
      );
      assert.is(amounts.length, 15);
    }
  } finally {
    await router?.stop();
    await stop();
  }
});

test("a starting router first re-routes what a crashed replica took and never acked, keeping key order", async () => {
  const { nc, stop } = await startServer();
  let router: RouterHandle | undefined;
  try {
    // creates the streams and the durable with a long ack_wait: redelivery alone would take 60s
    await (await startRouter(routerDeps(nc, config), { ackWaitMs: 60_000 })).stop();
    const events = Array.from({ length: 10 }, (_, i) => event("Payment", { amount: 2000 + i, currency: "EUR", account: "acc-1" }));
    await publishEvents(nc, events);
    // the "crashed" replica: takes the first five and dies without acking
    const held = await (await jetstream(nc).consumers.get(config.store.stream, Consumers.router)).fetch({ max_messages: 5, expires: 5000 });
    let taken = 0;
    for await (const _ of held) if (++taken === 5) break;
    assert.is(taken, 5);

    router = await startRouter(routerDeps(nc, config));
    await waitFor(
      async () => (await readAll(nc, Streams.Inbox)).filter((m) => m.subject.startsWith("actors.ledger.")).length === 10,
      "all ten ledger copies well before ack_wait",
      30_000,
    );
    const amounts = (await readAll(nc, Streams.Inbox))
      .filter((m) => m.subject.startsWith("actors.ledger."))
      .map((m) => (json(m) as { amount: number }).amount);
    assert.equal(
      amounts,
      events.map((e) => (e.data as { amount: number }).amount),
      "stream order kept across the crash",
    );
  } finally {
    await router?.stop();
    await stop();
  }
});

test.run();
