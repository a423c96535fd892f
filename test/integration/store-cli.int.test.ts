import { test } from "uvu";
import * as assert from "uvu/assert";
import { headers } from "@nats-io/transport-node";
import { startServer } from "../helpers/nats.ts";
import { runJetbus } from "../helpers/cli.ts";

const jetbus = (args: string[], env: Record<string, string> = {}) => runJetbus(args, { JETBUS_LOG_LEVEL: "info", ...env });

test("jetbus pub / get / history / index against a fresh server (after store apply creates the store), with exit codes 0, 1 and 2", async () => {
  const { server, nc, stop } = await startServer();
  const s = ["--servers", server.url];
  try {
    // a one-shot command never creates the store: an operator step does
    const none = await jetbus(["pub", "UserCreated", '{"user_id":"u0"}', ...s]);
    assert.is(none.code, 1, none.stderr);
    assert.match(none.stderr, /^error \[STORE_MISSING\]: stream EVENTS does not exist/m);
    assert.match(none.stderr, /jetbus store apply/);
    const apply = await jetbus(["store", "apply", "--yes", ...s]);
    assert.is(apply.code, 0, apply.stderr);
    assert.match(apply.stdout, /^EVENTS: create/m);
    const pub = await jetbus([
      "pub",
      "UserCreated",
      '{"user_id":"u1","username":"john","email":"john@example.com"}',
      "--id",
      "cli-1",
      "--correlation-id",
      "flow-cli",
      "--source",
      "shell",
      ...s,
    ]);
    assert.is(pub.code, 0, pub.stderr);
    assert.is(pub.stdout, "cli-1 seq 1\n");
    const dup = await jetbus(["pub", "UserCreated", '{"user_id":"u1"}', "--id", "cli-1", ...s]);
    assert.is(dup.stdout, "cli-1 seq 1 duplicate\n");
    const second = await jetbus([
      "pub",
      "UserUpdated",
      '{"user_id":"u1"}',
      "--correlation-id",
      "flow-cli",
      "--causation-id",
      "cli-1",
      "--json",
      ...s,
    ]);
    assert.is(second.code, 0, second.stderr);
    const secondResult = JSON.parse(second.stdout) as { id: string; seq: number; duplicate: boolean };
    assert.is(secondResult.seq, 2);
    // a raw publish by another client (like `nats pub`) joins the flow through its header
    const h = headers();
    h.set("ce-correlationid", "flow-cli");
    nc.publish("events.UserDeleted", new TextEncoder().encode('{"user_id":"u1"}'), { headers: h });
    await nc.flush();

    const get = await jetbus(["get", "cli-1", "--json", ...s]);
    assert.is(get.code, 0, get.stderr);
    const event = JSON.parse(get.stdout) as Record<string, unknown>;
    assert.is(event.id, "cli-1");
    assert.is(event.source, "shell");
    assert.is(event.seq, 1);
    assert.equal(event.data, { user_id: "u1", username: "john", email: "john@example.com" });

    const missing = await jetbus(["get", "nope", ...s]);
    assert.is(missing.code, 1);
    assert.match(missing.stderr, /event nope not found/);
    assert.not.match(missing.stderr, /\n\s+at /, "no stack trace");

    const flow = await jetbus(["history", "--correlation-id", "flow-cli", "--json", ...s]);
    assert.is(flow.code, 0, flow.stderr);
    const lines = flow.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { id: string; seq: number; type: string });
    assert.equal(
      lines.map((l) => [l.seq, l.type]),
      [
        [1, "UserCreated"],
        [2, "UserUpdated"],
        [3, "UserDeleted"],
      ],
    );
    assert.is(lines[2]!.id, "EVENTS-3");

    const byType = await jetbus(["history", "--type", "UserUpdated", "--since", "1h", ...s]);
    assert.is(byType.code, 0, byType.stderr);
    assert.match(byType.stdout, new RegExp(`^\\s+2  \\S+  UserUpdated  ${secondResult.id}  corr=flow-cli  \\{"user_id":"u1"\\}\\n$`));
    const limited = await jetbus(["history", "--limit", "2", "--json", ...s]);
    assert.is(limited.stdout.trim().split("\n").length, 2);
    const future = await jetbus(["history", "--since", new Date(Date.now() + 3_600_000).toISOString(), ...s]);
    assert.is(future.stdout, "");

    const bad = await jetbus(["pub", "UserCreated", '{"username":"no id"}', ...s]);
    assert.is(bad.code, 2);
    assert.match(bad.stderr, /user_id: is required/);
    assert.is((await jetbus(["pub", "UserCreated", "{not json", ...s])).code, 2);
    assert.is((await jetbus(["history", "--since", "last tuesday", ...s])).code, 2);
    assert.is((await jetbus(["history", "--limit", "0", ...s])).code, 2);

    const status = await jetbus(["index", "status", "--json", ...s]);
    assert.is(status.code, 0, status.stderr);
    assert.is((JSON.parse(status.stdout) as { lag: number; indexedThrough: number }).indexedThrough, 3);
    const rebuild = await jetbus(["index", "rebuild", ...s]);
    assert.is(rebuild.code, 0, rebuild.stderr);
    assert.match(rebuild.stdout, /index rebuilt: indexed through seq 3 of 3; lag 0/);
  } finally {
    await stop();
  }
});

test("jetbus history asks the server once per subject kind (one batched direct get for up to 256 events); a missing store is STORE_MISSING", async () => {
  const { server, nc, stop } = await startServer();
  const s = ["--servers", server.url];
  try {
    const none = await jetbus(["history", ...s]);
    assert.is(none.code, 1, none.stderr);
    assert.match(none.stderr, /^error \[STORE_MISSING\]: stream EVENTS does not exist/m);
    assert.is((await jetbus(["store", "apply", "--yes", ...s])).code, 0);
    for (let i = 0; i < 3; i++) assert.is((await jetbus(["pub", "UserCreated", `{"user_id":"u${i}"}`, ...s])).code, 0);
    // every JetStream API request of the command, as the server receives it
    const asked: string[] = [];
    const sub = nc.subscribe("$JS.API.>", { callback: (_err, m) => void asked.push(m.subject) });
    await nc.flush();
    const history = await jetbus(["history", "--type", "UserCreated", ...s]);
    assert.is(history.code, 0, history.stderr);
    assert.is(history.stdout.trim().split("\n").length, 3);
    await nc.flush();
    sub.unsubscribe();
    // a type is stored on events.<type> and, for an aggregate's events, on its entity subjects
    // (events.@.<aggregate>.<entity>.<type>): one batched direct get of each, sent together (mergeBySeq),
    // so one round trip; no stream info, no consumer
    assert.equal(asked, ["$JS.API.DIRECT.GET.EVENTS", "$JS.API.DIRECT.GET.EVENTS"], "one direct get per subject kind");
    const all: string[] = [];
    const sub2 = nc.subscribe("$JS.API.>", { callback: (_err, m) => void all.push(m.subject) });
    await nc.flush();
    assert.is((await jetbus(["history", ...s])).code, 0);
    await nc.flush();
    sub2.unsubscribe();
    assert.equal(all, ["$JS.API.DIRECT.GET.EVENTS"], "every type: one request, as a bare client's direct get");
  } finally {
    await stop();
  }
});

test.run();
