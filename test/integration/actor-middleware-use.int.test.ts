// An actor's own middleware (`use` in defineActor): `(next) => handler`, run around the handler by a
// real worker, inside its policies (a middleware's failure is retried like a handler's).
import "reflect-metadata";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { container } from "tsyringe";
import { jetstreamManager } from "@nats-io/jetstream";
import { ActorWorker, defineActor, ensureInbox, type ActorMiddleware } from "../../runtime/actor/mod.ts";
import { resolveHandler } from "../../runtime/actor/resolve.ts";
import { configFrom } from "../../runtime/config/load.ts";
import { createEvent } from "../../runtime/events/codec.ts";
import { createLogger } from "../../runtime/log.ts";
import { Metrics } from "../../runtime/observability/metrics.ts";
import { feed } from "../fixtures/actor-harness.ts";
import { startServer } from "../helpers/nats.ts";
import { waitFor } from "../helpers/wait.ts";

let env: Awaited<ReturnType<typeof startServer>>;
test.before(async () => {
  env = await startServer();
});
test.after(async () => {
  await env?.stop();
});

test("defineActor({ use }): each middleware runs around the handler, first listed outermost; one that throws fails the delivery, which is retried", async () => {
  const calls: string[] = [];
  const tag =
    (name: string): ActorMiddleware =>
    (next) =>
    async (event, ctx) => {
      calls.push(`${name}:in:${(event.data as { n: number }).n}:${ctx.deliveryCount}`);
      await next(event, ctx);
      calls.push(`${name}:out`);
    };
  let failedOnce = false;
  const flaky: ActorMiddleware = (next) => async (event, ctx) => {
    if ((event.data as { n: number }).n === 2 && !failedOnce) {
      failedOnce = true;
      throw new Error("the middleware's dependency is down");
    }
    return next(event, ctx);
  };
  const handled: number[] = [];
  const definition = defineActor<{ n: number }>({
    use: [tag("outer"), flaky, tag("inner")],
    async handle(event) {
      calls.push(`handler:${event.data.n}`);
      handled.push(event.data.n);
    },
  });
  const settings = configFrom({ actors: [{ name: "mw", retry: { max_attempts: 3, backoff: ["50ms"] } }] }).actors[0]!;
  await ensureInbox(await jetstreamManager(env.nc), configFrom({ actors: [{ name: "mw" }] }));
  const worker = new ActorWorker({
    nc: env.nc,
    settings,
    handler: resolveHandler(container, settings, definition),
    logger: createLogger({ level: "silent" }),
    metrics: new Metrics(),
    publishEvent: () => Promise.reject(new Error("not used")),
    expiresMs: 1000,
  });
  await worker.start();
  await feed(env.nc, settings, createEvent({ type: "Counted", data: { n: 1 } }));
  await waitFor(() => handled.includes(1), "the first event handled");
  assert.equal(calls, ["outer:in:1:1", "inner:in:1:1", "handler:1", "inner:out", "outer:out"]);
  calls.length = 0;
  await feed(env.nc, settings, createEvent({ type: "Counted", data: { n: 2 } }));
  await waitFor(() => handled.includes(2), "the second event handled on its retry");
  assert.equal(calls, ["outer:in:2:1", "outer:in:2:2", "inner:in:2:2", "handler:2", "inner:out", "outer:out"]);
  await worker.stop(5000);
});

test("defineActor refuses a use that is not a list of functions", () => {
  assert.throws(() => defineActor({ use: ["nope"] as never, handle: async () => undefined }), /use must be a list of middleware/);
});

test.run();
