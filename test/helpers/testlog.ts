import { DeliverPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { retryTransient } from "../../runtime/nats/connect.ts";
import { LOG_STREAM, type LogEntry } from "../fixtures/probe-handler.ts";

/**
 * Every probe record of TESTLOG in store order, read with one ordered consumer (fast on a cluster,
 * where a lookup per sequence costs a round trip to the leader each).
 */
export async function readLogStream(nc: NatsConnection): Promise<LogEntry[]> {
  return retryTransient(async () => {
    const info = await (await jetstreamManager(nc)).streams.info(LOG_STREAM);
    const out: LogEntry[] = [];
    if (info.state.messages === 0) return out;
    const consumer = await jetstream(nc).consumers.get(LOG_STREAM, { deliver_policy: DeliverPolicy.All });
    const messages = await consumer.consume();
    for await (const m of messages) {
      if (!m.subject.startsWith("testlog.fix.")) out.push(m.json<LogEntry>());
      if (m.seq >= info.state.last_seq) break;
    }
    await messages.close();
    return out;
  });
}
