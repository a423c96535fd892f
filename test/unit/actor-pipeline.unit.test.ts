// The actor's pipeline as built for a worker: the concurrency slot is the handler's alone, given
// back as the handler returns or throws, before the processed-marker write and the ack.
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { JetStreamClient } from "@nats-io/jetstream";
import { configFrom } from "../../runtime/config/load.ts";
import { buildPipeline } from "../../runtime/actor/pipeline.ts";
import type { MarkerStore } from "../../runtime/actor/middleware/mod.ts";
import type { HandlerFn } from "../../runtime/actor/types.ts";
import { Metrics } from "../../runtime/observability/metrics.ts";
import { handlingOf, inboxMessage, recordingLogger, sampleEvent } from "../fixtures/handling.ts";

/** Marker writes that stay in flight until the test lets them finish; `steps` records what happened in which order. */
function slowMarkers(steps: string[]) {
  let finish!: () => void;
  const written = new Promise<void>((r) => (finish = r));
  const store: MarkerStore = {
    has: async () => false,
    hasOnLeader: async () => false,
    mark: async () => {
      steps.push("marker write sent");
      await written;
      steps.push("marker stored");
    },
  };
  return { store, finish };
}

function pipelineWith(handler: HandlerFn, markers: MarkerStore) {
  const config = configFrom({ actors: [{ name: "a", retry: { max_attempts: 3 } }], routes: { rules: [] } });
  const { logger } = recordingLogger();
  return buildPipeline({
    settings: config.actors[0]!,
    handler,
    logger,
    metrics: new Metrics(),
    // only the dead-letter policy publishes, and these handlings never reach it
    js: {} as JetStreamClient,
    markers,
    ctx: {
      actor: "a",
      replica: "r",
      options: {},
      logger,
      publishEvent: async (e) => ({ id: e.id, seq: 0, duplicate: false }),
      signal: new AbortController().signal,
    },
  });
}

test("pipeline: the slot is given back as the handler returns, while the marker write is still in flight", async () => {
  const steps: string[] = [];
  const markers = slowMarkers(steps);
  const run = pipelineWith(async () => void steps.push("handler"), markers.store);
  const outcome = run(handlingOf(inboxMessage(sampleEvent()), { waitedMs: 0, freeSlot: () => void steps.push("slot freed") }));
  await new Promise((r) => setImmediate(r));
  assert.equal(steps, ["handler", "slot freed", "marker write sent"]);
  markers.finish();
  assert.equal(await outcome, { kind: "ack", result: "handled" }, "the delivery is acked only once its marker is stored");
  assert.equal(steps, ["handler", "slot freed", "marker write sent", "marker stored"]);
});

test("pipeline: a handler that throws gives its slot back too (the retry is a delayed nak, no marker)", async () => {
  const steps: string[] = [];
  const markers = slowMarkers(steps);
  const run = pipelineWith(async () => {
    steps.push("handler");
    throw new Error("boom");
  }, markers.store);
  const outcome = await run(handlingOf(inboxMessage(sampleEvent()), { waitedMs: 0, freeSlot: () => void steps.push("slot freed") }));
  assert.is(outcome.kind, "nak");
  assert.equal(steps, ["handler", "slot freed"]);
});

test.run();
