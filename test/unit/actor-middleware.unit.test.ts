import { test } from "uvu";
import * as assert from "uvu/assert";
import { compose, timeout } from "../../runtime/actor/middleware/mod.ts";
import type { ActorContext, HandlerFn } from "../../runtime/actor/types.ts";
import { createEvent } from "../../runtime/events/codec.ts";
import { createLogger } from "../../runtime/log.ts";

const event = createEvent({ type: "UserCreated", data: { user_id: "u1" }, source: "test" });

function ctxWith(signal: AbortSignal): ActorContext {
  return {
    actor: "a",
    replica: "r",
    deliveryCount: 1,
    streamSeq: 1,
    options: {},
    logger: createLogger({ level: "silent", pretty: false }),
    publish: () => Promise.reject(new Error("not used")),
    working: () => undefined,
    signal,
  };
}

test("timeout: a handler that finishes in time resolves, and its signal was never aborted", async () => {
  let seen: AbortSignal | undefined;
  const h = timeout(1000)(async (_e, ctx) => {
    seen = ctx.signal;
  });
  await h(event, ctxWith(new AbortController().signal));
  assert.ok(seen);
  assert.is(seen!.aborted, false);
});

test("timeout: a hung handler fails with a retryable TimeoutError and sees its signal aborted", async () => {
  let seen: AbortSignal | undefined;
  const h = timeout(50)((_e, ctx) => {
    seen = ctx.signal;
    return new Promise<void>(() => undefined);
  });
  const started = Date.now();
  const err = await h(event, ctxWith(new AbortController().signal)).then(
    () => null,
    (e: unknown) => e as { name: string; code: string; retryable: boolean },
  );
  assert.ok(err, "rejected");
  assert.is(err!.name, "TimeoutError");
  assert.is(err!.code, "TIMEOUT");
  assert.is(err!.retryable, true);
  assert.ok(Date.now() - started >= 50, "not before the limit");
  assert.is(seen!.aborted, true);
  assert.is(seen!.reason, err);
});

test("timeout: an error thrown by the handler passes through unchanged", async () => {
  const boom = new Error("boom");
  const h = timeout(1000)(async () => {
    throw boom;
  });
  assert.is(await h(event, ctxWith(new AbortController().signal)).catch((e: unknown) => e), boom);
});

test("timeout: a handler that throws before returning a promise fails the same way, and leaves nothing to expire", async () => {
  const boom = new Error("sync boom");
  const h = timeout(20)(() => {
    throw boom;
  });
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on("unhandledRejection", onUnhandled);
  try {
    assert.is(await h(event, ctxWith(new AbortController().signal)).catch((e: unknown) => e), boom);
    // past the limit: a deadline still under watch would now reject a promise nobody awaits
    await new Promise((r) => setTimeout(r, 60));
    assert.equal(unhandled, []);
  } finally {
    process.off("unhandledRejection", onUnhandled);
  }
});

test("timeout: the worker's shutdown signal still reaches the handler", async () => {
  const shutdown = new AbortController();
  const h = timeout(10_000)(
    (_e, ctx) =>
      new Promise<void>((_, reject) => {
        ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason as Error), { once: true });
      }),
  );
  const running = h(event, ctxWith(shutdown.signal));
  const reason = new Error("grace period over");
  shutdown.abort(reason);
  assert.is(await running.catch((e: unknown) => e), reason);
});

test("compose: the first middleware listed is the outermost", async () => {
  const calls: string[] = [];
  const tag =
    (name: string) =>
    (next: HandlerFn): HandlerFn =>
    async (e, ctx) => {
      calls.push(`${name}:in`);
      await next(e, ctx);
      calls.push(`${name}:out`);
    };
  await compose(async () => void calls.push("handler"), tag("a"), tag("b"))(event, ctxWith(new AbortController().signal));
  assert.equal(calls, ["a:in", "b:in", "handler", "b:out", "a:out"]);
});

test.run();
