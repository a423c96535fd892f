import { headers } from "@nats-io/transport-node";
import { createEvent, decodeEvent, encodeEvent } from "../../runtime/events/mod.ts";
import { opsPerSecond, type Scenario } from "../harness.ts";

const data = { user_id: "user1", username: "john_doe", email: "john@example.com", tags: ["a", "b", "c"], score: 42 };

/** Encode + decode of one event through the codec, vs the same headers and JSON done by hand with the raw client. */
const scenario: Scenario = {
  name: "codec",
  description: "CloudEvents binary-mode encode+decode vs hand-built nats headers + JSON",
  async run() {
    const event = createEvent({ type: "UserCreated", data, source: "user-service", correlationid: "correlation-1" });
    const enc = new TextEncoder();
    const dec = new TextDecoder();
    const jetbus = opsPerSecond(() => {
      const w = encodeEvent(event);
      decodeEvent({ subject: w.subject, headers: w.headers, data: w.data });
    }, 2000);
    const raw = opsPerSecond(() => {
      const h = headers();
      h.set("Nats-Msg-Id", event.id);
      h.set("ce-id", event.id);
      h.set("ce-type", event.type);
      h.set("ce-source", event.source);
      h.set("ce-time", event.time);
      h.set("ce-correlationid", event.correlationid);
      const body = enc.encode(JSON.stringify(event.data));
      JSON.parse(dec.decode(body));
      for (const k of h.keys()) h.get(k);
    }, 2000);
    return [{ metric: "encode+decode", unit: "ops/s", jetbus, raw, higherIsBetter: true }];
  },
};
export default scenario;
