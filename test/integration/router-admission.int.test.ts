import { test } from "uvu";
import * as assert from "uvu/assert";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { headers as natsHeaders } from "@nats-io/transport-node";
import { startServer } from "../helpers/nats.ts";
import { waitFor } from "../helpers/wait.ts";
import { startRouter, type RouterHandle } from "../../runtime/routing/router.ts";
import { Consumers, JetbusHeaders, Streams } from "../../runtime/topology.ts";
import { header, readAll, routerDeps, testConfig } from "../fixtures/router-support.ts";

// what `nats pub events.UserCreated BODY -H k:v ...` sends: a raw body, optional headers
async function natsPub(
  js: ReturnType<typeof jetstream>,
  subject: string,
  body: string,
  hdrs: Record<string, string> = {},
): Promise<number> {
  const h = natsHeaders();
  for (const [k, v] of Object.entries(hdrs)) h.set(k, v);
  return (await js.publish(subject, new TextEncoder().encode(body), { headers: h })).seq;
}

test("the router enforces schemas/events/<Type>.json and ce-time for every publisher: violations are quarantined with the reason, never routed", async () => {
  const { nc, stop } = await startServer();
  let router: RouterHandle | undefined;
  try {
    const config = testConfig({ actors: [{ name: "audit" }], routes: { rules: [{ match: { type: "User*" }, to: ["audit"] }] } });
    router = await startRouter(routerDeps(nc, config), { heartbeatMs: 500 });
    const js = jetstream(nc);
    const wrongType = await natsPub(js, "events.UserCreated", '{"user_id":5}', { "Nats-Msg-Id": "bad-type" });
    const twoProblems = await natsPub(js, "events.UserCreated", '{"username":"","email":"x"}', { "Nats-Msg-Id": "bad-two" });
    const badTime = await natsPub(js, "events.UserCreated", '{"user_id":"u9"}', { "Nats-Msg-Id": "bad-time", "ce-time": "yesterday" });
    const oldTime = await natsPub(js, "events.UserCreated", '{"user_id":"u1"}', {
      "Nats-Msg-Id": "old-time",
      "ce-time": "2020-01-01T00:00:00Z",
    });
    // a binary-mode publisher that skips jetbus pub's check is held to the schema too
    await natsPub(js, "events.UserDeleted", "{}", {
      "ce-specversion": "1.0",
      "ce-id": "bad-binary",
      "ce-type": "UserDeleted",
      "ce-source": "svc",
    });
    const noSchema = await natsPub(js, "events.UserInvited", '{"anything":1}', { "Nats-Msg-Id": "no-schema" });

    const jsm = await jetstreamManager(nc);
    await waitFor(
      async () => {
        const ci = await jsm.consumers.info(config.store.stream, Consumers.router);
        return ci.num_pending === 0 && ci.num_ack_pending === 0 && ci.ack_floor.stream_seq === 6;
      },
      "router acked all 6 events",
      30_000,
    );

    const inbox = await readAll(nc, Streams.Inbox);
    assert.equal(inbox.map((m) => header(m, "ce-id")).sort(), ["no-schema", "old-time"], "only the valid events reach the actor");
    assert.is(
      header(
        inbox.find((m) => header(m, "ce-id") === "old-time")!,
        "ce-time",
      ),
      "2020-01-01T00:00:00Z",
      "a raw ce-time is the event's time",
    );

    const quarantined = await readAll(nc, Streams.Quarantine);
    const reason = (seq: number) =>
      header(
        quarantined.find((m) => header(m, JetbusHeaders.OriginSeq) === String(seq))!,
        JetbusHeaders.Reason,
      ) ?? "";
    assert.is(quarantined.length, 3 + 1);
    assert.match(reason(wrongType), "schemas/events/UserCreated.json");
    assert.match(reason(wrongType), "user_id: must be string");
    assert.match(reason(twoProblems), "user_id: is required");
    assert.match(reason(twoProblems), "username: must NOT have fewer than 1 characters");
    assert.match(reason(twoProblems), "email: must match format");
    assert.match(reason(badTime), /"time" must be an RFC 3339 timestamp, got "yesterday"/);
    assert.ok(
      quarantined.some((m) => header(m, JetbusHeaders.Reason)?.includes("schemas/events/UserDeleted.json: user_id: is required")),
      "binary-mode violation quarantined",
    );
    assert.not.ok(
      quarantined.some(
        (m) => header(m, JetbusHeaders.OriginSeq) === String(oldTime) || header(m, JetbusHeaders.OriginSeq) === String(noSchema),
      ),
    );
  } finally {
    await router?.stop();
    await stop();
  }
});

test.run();
