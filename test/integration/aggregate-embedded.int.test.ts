import { test } from "uvu";
import * as assert from "uvu/assert";
import { fileURLToPath } from "node:url";
import { headers } from "@nats-io/transport-node";
import { startServer } from "../helpers/nats.ts";
import { waitFor } from "../helpers/wait.ts";
import { createJetbus, defineActor, type Event, type JetbusConfigInput } from "../../runtime/mod.ts";
import { clearUpcasters } from "../../runtime/events/versions/registry.ts";
import bankAccount from "../../examples/bank-account/bank-account.ts";

const EXAMPLE = fileURLToPath(new URL("../../examples/bank-account/", import.meta.url));
let env: Awaited<ReturnType<typeof startServer>>;
test.before(async () => {
  env = await startServer();
});
test.after(async () => {
  clearUpcasters();
  await env?.stop();
});

const seen: Event[] = [];
const seenEur: Event[] = [];
const seenDirect: Event[] = [];

test("embedded: an aggregate's events are ordinary events (routed to actors, found by id and correlation); a v1 event reaches a v2 handler and a v2 rule as v2", async () => {
  // the example's config: its aggregate and its upcasters module (MoneyDeposited 1 -> 2 adds currency EUR)
  const config: JetbusConfigInput = {
    aggregates: [{ name: "BankAccount", module: "./bank-account.ts" }],
    upcasters: "./upcasters.ts",
    actors: [
      { name: "recorder", handler: "recorder" },
      { name: "direct-recorder", handler: "direct-recorder", delivery: "direct" },
      { name: "eur-recorder", handler: "eur-recorder" },
    ],
    routes: {
      rules: [
        { name: "money", match: { type: "MoneyDeposited" }, to: ["recorder", "direct-recorder"] },
        { name: "fees", match: { type: "OverdraftFeeCharged" }, to: ["recorder"] },
        // written against version 2: a v1 deposit has no currency until its upcaster gives it one
        {
          name: "eur",
          match: { type: "MoneyDeposited", data: { exists: ["currency"] } },
          to: ["eur-recorder"],
          transform: { pick: ["currency"] },
        },
      ],
    },
    observability: { log_level: "warn" },
  };
  const recorder = (into: Event[]) => defineActor({ handle: async (event) => void into.push(event) });
  const jetbus = await createJetbus({
    config,
    servers: env.server.url,
    projectDir: EXAMPLE,
    source: "bank",
    handlers: { recorder: recorder(seen), "eur-recorder": recorder(seenEur), "direct-recorder": recorder(seenDirect) },
  });
  try {
    await jetbus.start();
    await jetbus.execute(bankAccount, "acct-1", { type: "Open", owner: "ada", overdraft_limit: 50 }, { correlationId: "onboarding-1" });
    const dep = await jetbus.execute(bankAccount, "acct-1", { type: "Deposit", amount: 10 }, { correlationId: "onboarding-1" });
    const wd = await jetbus.execute(bankAccount, "acct-1", { type: "Withdraw", amount: 30 });
    assert.is(wd.state.balance, -25);
    assert.is(dep.events[0]!.dataversion, 2, "stamped with the latest version the upcasters define");

    // a deposit stored as version 1 by a publisher that predates the currency: raw JSON, no version header
    const h = headers();
    h.set("Nats-Msg-Id", "legacy-deposit-1");
    h.set("ce-subject", "acct-legacy");
    await env.nc.request("events.MoneyDeposited", new TextEncoder().encode(JSON.stringify({ amount: 3 })), { headers: h, timeout: 5000 });

    await waitFor(
      () => seen.length === 3 && seenDirect.length === 2 && seenEur.length === 2,
      "both deposits and the fee handled by the copied and the direct actor",
      30_000,
    );
    const byId = new Map(seen.map((e) => [e.id, e]));
    const legacy = byId.get("legacy-deposit-1")!;
    assert.equal(legacy.data, { amount: 3, currency: "EUR" }, "upcast on delivery");
    assert.is(legacy.dataversion, 2);
    assert.equal(seenDirect.find((e) => e.id === "legacy-deposit-1")?.data, { amount: 3, currency: "EUR" }, "a direct actor too");
    // the router upcasts before its rules: the v2 filter selects the v1 deposit, the transform sees v2 data
    const legacyEur = seenEur.find((e) => e.id === "legacy-deposit-1");
    assert.equal([legacyEur?.data, legacyEur?.dataversion], [{ currency: "EUR" }, 2]);
    const routed = byId.get(dep.events[0]!.id)!;
    assert.is(routed.subject, "acct-1", "the entity id travels as the CloudEvents subject");
    assert.equal(routed.data, { amount: 10, currency: "EUR" });
    assert.ok(byId.has(wd.events[1]!.id), "the second event of a decision is routed too");

    // the store: by id and correlation through the indexer, by type through both subject kinds
    const stored = await waitFor(() => jetbus.store.findById(dep.events[0]!.id), "the deposit indexed", 30_000);
    assert.is(stored.subject, "events.@.BankAccount.acct-1.MoneyDeposited");
    const flow = await waitFor(async () => {
      const f = await jetbus.store.getByCorrelationId("onboarding-1");
      return f.length === 2 ? f : undefined;
    }, "the correlation indexed");
    assert.equal(
      flow.map((e) => e.event.type),
      ["AccountOpened", "MoneyDeposited"],
    );
    assert.equal(
      (await jetbus.store.getByType("MoneyDeposited")).map((e) => e.event.id),
      [dep.events[0]!.id, "legacy-deposit-1"],
    );
    // time travel through the embedding API
    const before = await jetbus.history(bankAccount, "acct-1", { version: 2 });
    assert.is(before.state.balance, 10);
  } finally {
    await jetbus.stop();
  }
});

test.run();
