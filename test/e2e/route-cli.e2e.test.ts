import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstreamManager } from "@nats-io/jetstream";
import { readKvEntry } from "../../runtime/operations/kv-read.ts";
import { ConfigStore } from "../../runtime/routing/config-store.ts";
import { Buckets, ConfigKeys } from "../../runtime/topology.ts";
import { startServer } from "../helpers/nats.ts";
import { runJetbus } from "../helpers/cli.ts";

const dir = mkdtempSync(join(tmpdir(), "jetbus-route-cli-"));
const file = (name: string, doc: unknown) => {
  const p = join(dir, name);
  writeFileSync(p, typeof doc === "string" ? doc : JSON.stringify(doc));
  return p;
};

const jetbus = (args: string[]) => runJetbus(args, { JETBUS_LOG_LEVEL: "error" });

const actors = [{ name: "user-handler-1" }, { name: "email-handler" }];
const good1 = file("one.json", {
  nats: { user: "someone", pass: "s3cret-pass" },
  actors,
  routes: { rules: [{ name: "created", match: { type: "UserCreated" }, to: ["user-handler-1", "email-handler"] }] },
});
const good2 = file("two.json", {
  actors,
  routes: {
    mode: "first-match",
    rules: [
      {
        name: "vip",
        match: { type: "User*", data: { eq: { vip: true } } },
        to: ["email-handler"],
        transform: { pick: ["email"], set: { template: "vip" } },
      },
      { name: "rest", match: { type: "User*" }, to: ["user-handler-1"] },
    ],
  },
});
const invalid = file("bad.json", {
  actors,
  routes: {
    mode: "first-match",
    rules: [{ to: ["user-handler-1"] }, { match: { type: "UserCreated", data: { regex: { email: "([" } } }, to: ["nobody"] }],
  },
});

test("config apply / show / history / rollback against a real server; invalid configs exit 2 and leave KV unchanged", async () => {
  const { nc, server, stop } = await startServer();
  const s = ["--servers", server.url];
  try {
    const a1 = await jetbus(["config", "apply", good1, ...s, "--json"]);
    assert.is(a1.code, 0, a1.stderr);
    const rev1 = JSON.parse(a1.stdout).revision as number;
    const raw = await readKvEntry(await jetstreamManager(nc), Buckets.Config, ConfigKeys.Routes);
    assert.is(raw!.revision, rev1);
    assert.not.ok(new TextDecoder().decode(raw!.value).includes("s3cret-pass"), "credentials are never stored in KV");

    const bad = await jetbus(["config", "apply", invalid, ...s]);
    assert.is(bad.code, 2);
    assert.match(bad.stderr, /routes\.rules\[1\]\.match\.data\.regex\.email: regex does not compile/);
    assert.match(bad.stderr, /routes\.rules\[1\]\.to\[0\]: unknown actor "nobody"/);
    assert.match(bad.stderr, /routes\.rules\[1\]: can never match in first-match mode/);
    const store = await ConfigStore.open(nc);
    assert.is((await store.current())!.revision, rev1, "KV unchanged after the refused apply");

    const a2 = await jetbus(["config", "apply", good2, ...s, "--json"]);
    assert.is(a2.code, 0, a2.stderr);
    const rev2 = JSON.parse(a2.stdout).revision as number;
    assert.ok(rev2 > rev1);

    const show = await jetbus(["config", "show", ...s, "--json"]);
    assert.is(show.code, 0, show.stderr);
    assert.is(JSON.parse(show.stdout).config.routes.mode, "first-match");

    const rb = await jetbus(["config", "rollback", String(rev1), ...s, "--json"]);
    assert.is(rb.code, 0, rb.stderr);
    const rev3 = JSON.parse(rb.stdout).revision as number;
    const now = (await store.current())!;
    assert.is(now.revision, rev3);
    assert.is(now.config.routes.mode, "all-matches");
    assert.equal(now.config.routes.rules[0]!.to, ["user-handler-1", "email-handler"]);

    const hist = await jetbus(["config", "history", ...s, "--json"]);
    assert.is(hist.code, 0, hist.stderr);
    assert.equal(
      JSON.parse(hist.stdout).map((h: { revision: number }) => h.revision),
      [rev1, rev2, rev3],
    );

    const missing = await jetbus(["config", "rollback", "999", ...s]);
    assert.is(missing.code, 1);
    assert.match(missing.stderr, /revision 999 not found/);
  } finally {
    await stop();
  }
});

test("route test prints targets and transformed payloads without a server", async () => {
  const ev = file("event.json", { type: "UserCreated", source: "signup", data: { email: "a@b.c", vip: true, password: "x" } });
  const r = await jetbus(["route", "test", good2, ev, "--json"]);
  assert.is(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.copies, [
    { actor: "email-handler", rule: "vip", subject: "actors.email-handler.0", data: { email: "a@b.c", template: "vip" } },
  ]);
  const text = await jetbus([
    "route",
    "test",
    "jetbus.config.json",
    file("structured.json", { specversion: "1.0", id: "e1", type: "OrderPlaced", source: "shop", data: {} }),
  ]);
  assert.is(text.code, 0, text.stderr);
  assert.match(text.stdout, /no rule matches: the router would publish it to unrouted\.OrderPlaced/);
  const badEvent = await jetbus(["route", "test", good2, file("nope.json", "[1]")]);
  assert.is(badEvent.code, 2);
});

test.run();
