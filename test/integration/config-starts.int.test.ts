// Property: every config that `config validate` accepts starts under `up`. Each generated document
// that passes what the command checks (schema, semantics, registered handlers, actor modules with
// their state) is started as `up` starts it in-process (stateful ordering from the modules, the
// indexer, the actors' durables, the router, the timer relay, the workers) on a fresh real
// nats-server, then stopped. Only what the config cannot know about the server is held fixed:
// store.replicas is 1 (a single node has one peer; the cluster tests cover 3), store.max_bytes is at
// most 64 MiB (a stream reserves it: more than the disk or memory has is the server's refusal,
// STORE_CONFLICT on store.storage), nats.servers is the test server, and the HTTP endpoints are
// off (a port in use is the machine's, not the config's).
// FC_SEED=N replays a run; FC_RUNS=N runs more cases (default 8: each starts a server).
import "reflect-metadata";
import { test } from "uvu";
import * as assert from "uvu/assert";
import fc from "fast-check";
import { fileURLToPath } from "node:url";
import { startRuntime } from "../../runtime/app/bootstrap.ts";
import { registerBuiltinHandlers } from "../../runtime/app/builtin-handlers.ts";
import { startServices } from "../../runtime/app/services.ts";
import { checkRegisteredHandlers } from "../../runtime/actor/handler-check.ts";
import { checkActorModules } from "../../runtime/actor/module-loader.ts";
import { stateOrderingProblems } from "../../runtime/actor/state/ordering-default.ts";
import { validateConfig } from "../../runtime/config/validate.ts";
import type { ActorSettings, JetbusConfig } from "../../runtime/config/types.ts";
import { createLogger } from "../../runtime/log.ts";
import { NatsServer } from "../helpers/nats.ts";
import { configDoc } from "../fixtures/config-arbitraries.ts";

const params = { numRuns: Number(process.env.FC_RUNS ?? 8), ...(process.env.FC_SEED ? { seed: Number(process.env.FC_SEED) } : {}) };
const MODULES = {
  counter: fileURLToPath(new URL("../fixtures/actor-modules/counter.ts", import.meta.url)),
  greeter: fileURLToPath(new URL("../fixtures/actor-modules/define-actor.ts", import.meta.url)),
};

// "a-p1" besides an ordered "a": the name of one of a's partition durables
const NAMES = ["a", "b", "email-handler", "x_1", "a-p1"];
const TYPES = ["UserCreated", "User.*", "User.>", "Order.Placed", "*"];

/**
 * An actor the schema likely accepts, in every shape that changes what `up` creates: a registered
 * handler or a module (stateful or not), ordered or not (a few partitions: a count in the hundreds
 * is a cost, not another case), delivered by copy or direct, with or without markers.
 */
const actor = (name: string) =>
  fc.record(
    {
      name: fc.constant(name),
      source: fc.constantFrom("noop", "email-handler", "counter", "greeter"),
      concurrency: fc.integer({ min: 1, max: 16 }),
      replicas: fc.integer({ min: 1, max: 2 }),
      max_ack_pending: fc.integer({ min: 1, max: 5000 }),
      ack_wait: fc.constantFrom("1s", "30s", "5m", 1000),
      timeout: fc.constantFrom(0, "5s", "5m"),
      retry: fc.record({ max_attempts: fc.integer({ min: 1, max: 10 }), backoff: fc.constantFrom(["1s"], ["100ms", "5s"], []) }),
      dead_letter: fc.record({ enabled: fc.boolean() }),
      idempotency: fc.record({ enabled: fc.boolean(), ttl: fc.constantFrom("100ms", "1h", "24h", 0) }),
      ordered: sometimes(
        fc.record(
          { key: fc.constantFrom("correlationid", "source", "type", "subject", "data.key"), partitions: fc.integer({ min: 1, max: 16 }) },
          { requiredKeys: [] },
        ),
      ),
      delivery: fc.constantFrom("copy", "copy", "direct"),
    },
    { requiredKeys: ["name", "source"] },
  );

/** One in four a value, else nothing: most rules then decide on the type alone, as a direct actor needs. */
const sometimes = <T>(a: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> =>
  fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: a });

const rule = (names: readonly string[]) =>
  fc
    .record({
      type: fc.constantFrom(...TYPES),
      data: sometimes(fc.constantFrom({ exists: ["key"] }, { eq: { "a.b": 1 } })),
      to: fc.shuffledSubarray([...names], { minLength: 1 }),
      transform: sometimes(fc.constantFrom({ drop: ["secret"] }, { set: { v: 2 } })),
    })
    .map(({ type, data, to, transform }) => ({
      match: data === undefined ? { type } : { type, data },
      to,
      ...(transform === undefined ? {} : { transform }),
    }));

/** A generated document (its store, observability and routes mode from the shared arbitraries, edge values included) with such actors and rules. */
const doc = fc
  .tuple(configDoc, fc.shuffledSubarray(NAMES, { minLength: 1, maxLength: 3 }))
  .chain(([d, names]) => fc.tuple(fc.constant(d), fc.tuple(...names.map(actor)), fc.array(rule(names), { maxLength: 3 })))
  .map(([d, actors, rules]) => {
    const store = (typeof d.store === "object" && d.store !== null ? d.store : {}) as Record<string, unknown>;
    const maxBytes = typeof store.max_bytes === "number" && store.max_bytes > 64 * 2 ** 20 ? 64 * 2 ** 20 : store.max_bytes;
    const routes = (typeof d.routes === "object" && d.routes !== null ? d.routes : {}) as Record<string, unknown>;
    return {
      ...d,
      store: { ...store, replicas: 1, ...(maxBytes === undefined ? {} : { max_bytes: maxBytes }) },
      actors: actors.map(({ source, ordered, ...a }) => ({
        ...a,
        ...(ordered === undefined ? {} : { ordered }),
        ...(source === "counter" || source === "greeter" ? { module: MODULES[source] } : { handler: source }),
      })),
      routes: { ...routes, rules },
    };
  });

/** What `jetbus config validate` checks (runtime/cli/commands/config.ts): the config, or undefined when it refuses. */
async function accepted(d: unknown): Promise<JetbusConfig | undefined> {
  const { config, problems } = validateConfig(structuredClone(d));
  if (!config || problems.length) return undefined;
  if (checkRegisteredHandlers(config.actors as ActorSettings[]).length) return undefined;
  if ((await checkActorModules(config, process.cwd(), stateOrderingProblems)).length) return undefined;
  return config;
}

test("every config `config validate` accepts starts under `up` (in-process, on a real nats-server)", async () => {
  await registerBuiltinHandlers();
  let started = 0;
  const seen = { actors: 0, stateful: 0, ordered: 0, direct: 0, rules: 0 };
  await fc.assert(
    fc.asyncProperty(doc, async (d) => {
      const config = await accepted(d);
      fc.pre(config !== undefined);
      const server = await NatsServer.start();
      const rt = await startRuntime({
        config: config!,
        servers: server.url,
        name: "config-starts",
        actorModules: "strict",
        logger: createLogger({ level: process.env.JETBUS_TEST_LOG ?? "silent", pretty: false }),
      }).catch(async (err: unknown) => {
        await server.stop();
        throw err;
      });
      try {
        const services = await startServices(rt, { http: false });
        assert.is(
          services.actors?.workers.length ?? 0,
          config!.actors.reduce((n, a) => n + a.replicas, 0),
        );
        await services.stop(1_000);
        started++;
        seen.actors += rt.config.actors.length;
        seen.stateful += config!.actors.filter((a) => a.module === MODULES.counter).length;
        seen.ordered += rt.config.actors.filter((a) => a.ordered).length;
        seen.direct += rt.config.actors.filter((a) => a.delivery === "direct").length;
        seen.rules += rt.config.routes.rules.length;
      } finally {
        await rt.dispose();
        await server.stop();
      }
    }),
    { ...params, maxSkipsPerRun: 200 },
  );
  assert.ok(started >= params.numRuns, `${started} configs started`);
  console.log(`  ${started} configs started: ${JSON.stringify(seen)}`);
});

test.run();
