import { DeliverPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { StoredRecord } from "./checker.ts";

/**
 * Every message of a stream as a checker record: id = Nats-Msg-Id, else the CloudEvents ce-id
 * (the event id either way for jetbus publishes), seq = stream sequence.
 */
export async function storedRecords(nc: NatsConnection, stream: string): Promise<StoredRecord[]> {
  const info = await (await jetstreamManager(nc)).streams.info(stream);
  const out: StoredRecord[] = [];
  if (info.state.messages === 0) return out;
  const consumer = await jetstream(nc).consumers.get(stream, { deliver_policy: DeliverPolicy.All });
  const messages = await consumer.consume();
  for await (const m of messages) {
    out.push({ id: m.headers?.get("Nats-Msg-Id") || m.headers?.get("ce-id") || `seq-${m.seq}`, seq: m.seq });
    if (m.seq >= info.state.last_seq) break;
  }
  await messages.close();
  return out;
}
