// createJetbus, the one way to embed jetbus, through the package's public files only (runtime/mod.ts
// is "jetbus", runtime/di.ts "jetbus/di", runtime/errors.ts "jetbus/errors").
import { test } from "uvu";
import * as assert from "uvu/assert";
import { fileURLToPath } from "node:url";
import { Kvm } from "@nats-io/kv";
import {
  createJetbus,
  defineActor,
  type ActorContext,
  type ActorMiddleware,
  type Event,
  type JetbusConfigInput,
} from "../../runtime/mod.ts";
import { ActorTokens, Tokens, inject, injectable } from "../../runtime/di.ts";
import { HandlerInvalidError, UsageError } from "../../runtime/errors.ts";
import { tokenFor } from "../../runtime/events/subjects.ts";
import type { Logger } from "../../runtime/log.ts";
import { startServer } from "../helpers/nats.ts";
import { waitFor } from "../helpers/wait.ts";

const FIXTURES = fileURLToPath(new URL("../fixtures/actor-modules/", import.meta.url));
type Greeting = { name: string; skip?: boolean };

type Env = Awaited<ReturnType<typeof startServer>>;

/** Each test on its own server: a router seeds the live config (KV jetbus-config) once per server. */
async function withServer(run: (servers: string, env: Env) => Promise<void>): Promise<void> {
  const env = await startServer();
  try {
    await run(env.server.url, env);
  } finally {
    await env.stop();
  }
}

/** What `p` rejects with; fails the test when it resolves. */
async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  return assert.unreachable("expected a rejection");
}

const routedTo = (to: string[]): JetbusConfigInput["routes"] => ({ rules: [{ name: "greetings", match: { type: "Greeted" }, to }] });

test("createJetbus: a module actor handles a routed event, the store answers, the caller's config stays as written, stop() closes", async () => {
  await withServer(async (servers) => {
    const doc: JetbusConfigInput = {
      actors: [{ name: "greeter", module: "./define-actor.ts" }],
      routes: { rules: [{ name: "greet", match: { type: "Greeted", data: { prefix: { name: "a" } } }, to: ["greeter"] }] },
      observability: { log_level: "warn" },
    };
    const written = structuredClone(doc);
    const jetbus = await createJetbus({ config: doc, servers, projectDir: FIXTURES, source: "embed-test" });
    const { seen } = (await import(`${FIXTURES}define-actor.ts`)) as { seen: string[] };
    try {
      assert.equal(doc, written, "validation filled in defaults on a copy");
      assert.is(jetbus.config.actors[0]!.concurrency, 16, "the config in use has its defaults");
      await jetbus.start();
      assert.instance(await rejection(jetbus.start()), UsageError, "start() once");
      await jetbus.publish("Greeted", { name: "bob" });
      const { id, duplicate } = await jetbus.publish("Greeted", { name: "ada" });
      assert.is(duplicate, false);
      await waitFor(() => seen.includes("ada"), "the embedded actor handled the routed event");
      assert.not.ok(seen.includes("bob"), "the data predicate did not route bob");
      const stored = await waitFor(() => jetbus.store.findById(id), "the event indexed");
      assert.is(stored.event.source, "embed-test");
      assert.is((await jetbus.store.getByType("Greeted")).length, 2);
      assert.equal(
        (await jetbus.store.getByCorrelationId(id)).map((e) => e.event.id),
        [id],
      );
    } finally {
      await jetbus.stop();
    }
    assert.instance(
      await rejection(jetbus.publish("Greeted", { name: "late" })),
      Error,
      "no publish after stop(): the connection is closed",
    );
    assert.instance(await rejection(jetbus.start()), UsageError, "no start() after stop()");
  });
});

/** A handler class as jetbus/di documents it: every constructor parameter injected by token. */
const classSeen: string[] = [];
@injectable()
class GreeterClass {
  constructor(
    @inject(ActorTokens.Options) private readonly options: Record<string, unknown>,
    @inject(Tokens.Logger) private readonly logger: Logger,
  ) {}

  async handle(event: Event<Greeting>, ctx: ActorContext): Promise<void> {
    this.logger.debug({ actor: ctx.actor }, "class handler");
    classSeen.push(`${String(this.options.greeting)} ${event.data.name}`);
  }
}

test("handlers: a defineActor object and a tsyringe class with injected tokens, by name; jetbus's sample actors are not known", async () => {
  await withServer(async (servers) => {
    const plainSeen: string[] = [];
    const jetbus = await createJetbus({
      config: {
        actors: [{ name: "plain" }, { name: "classy", handler: "greeter-class", options: { greeting: "hi" } }],
        routes: routedTo(["plain", "classy"]),
        observability: { log_level: "warn" },
      },
      servers,
      handlers: {
        plain: defineActor<Greeting>({ handle: (e) => void plainSeen.push(e.data.name) }),
        "greeter-class": GreeterClass,
      },
    });
    try {
      await jetbus.start();
      await jetbus.publish("Greeted", { name: "ada" });
      await waitFor(() => plainSeen.includes("ada") && classSeen.includes("hi ada"), "both handlers ran");
    } finally {
      await jetbus.stop();
    }

    // `user-handler` is one of the repo's sample actors (actors/), which only the CLI registers
    const bare = await createJetbus({ config: { actors: [{ name: "user-handler" }], observability: { log_level: "warn" } }, servers });
    try {
      const err = await rejection(bare.start());
      assert.instance(err, HandlerInvalidError);
      assert.match((err as Error).message, /no handler registered as "user-handler" \(known: none\)/);
    } finally {
      await bare.stop();
    }
  });
});

test("use: middleware around every actor's handler, the first listed outermost; one that does not call next() acks unhandled", async () => {
  await withServer(async (servers, env) => {
    const trace: Record<string, string[]> = { a: [], b: [] };
    const mark =
      (label: string): ActorMiddleware =>
      (next) =>
      async (event, ctx) => {
        trace[ctx.actor]!.push(`${label}>`);
        await next(event, ctx);
        trace[ctx.actor]!.push(`<${label}`);
      };
    const skipFlagged: ActorMiddleware = (next) => async (event, ctx) => {
      if ((event.data as Greeting).skip) return;
      await next(event, ctx);
    };
    const handle = (e: Event<Greeting>, ctx: ActorContext) => void trace[ctx.actor]!.push(`handle ${e.data.name}`);
    const jetbus = await createJetbus({
      config: { actors: [{ name: "a" }, { name: "b" }], routes: routedTo(["a", "b"]), observability: { log_level: "warn" } },
      servers,
      handlers: { a: defineActor<Greeting>({ handle }), b: defineActor<Greeting>({ handle }) },
      use: [mark("outer"), mark("inner"), skipFlagged],
    });
    try {
      await jetbus.start();
      await jetbus.publish("Greeted", { name: "ada" });
      await waitFor(() => trace.a!.length === 5 && trace.b!.length === 5, "both actors handled it inside the middleware");
      for (const actor of ["a", "b"]) assert.equal(trace[actor], ["outer>", "inner>", "handle ada", "<inner", "<outer"], actor);

      const { id } = await jetbus.publish("Greeted", { name: "eve", skip: true });
      // the handling succeeded without the handler: its processed marker is written, as after any success
      const markers = await new Kvm(env.nc).open("jetbus-processed-a");
      await waitFor(async () => (await markers.get(tokenFor(id)))?.operation === "PUT", "the skipped delivery acked as handled");
      assert.equal(trace.a!.slice(5), ["outer>", "inner>", "<inner", "<outer"], "the middleware ran, the handler did not");
    } finally {
      await jetbus.stop();
    }
  });
});

test.run();
