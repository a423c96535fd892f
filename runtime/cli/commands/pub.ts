import type { Command } from "commander";
import { jetstreamManager } from "@nats-io/jetstream";
import { UsageError } from "../../errors.ts";
import { EventBus } from "../../store/bus.ts";
import { ensureEventStream, StoreAccess } from "../../store/stream.ts";
import { notificationTypesOf } from "../../config/notifications.ts";
import { allOptions, withCommonOptions, withRuntime, type CommonOptions } from "../options.ts";

type PubOptions = CommonOptions & { id?: string; source?: string; correlationId?: string; causationId?: string; notify?: boolean };

export function registerPub(program: Command): void {
  withCommonOptions(program.command("pub").argument("<type>", "event type, e.g. UserCreated").argument("<json>", "the event data as JSON"))
    .description(
      "publish one event to the store and print its id and sequence; a notification type (notifications.types, or --notify) is sent on notify.<type> instead, not stored",
    )
    .option("--id <id>", "event id (default: a new UUID); the same id again inside the duplicate window is stored once")
    .option("--source <source>", "event source, the CloudEvents `source` (default: nats)")
    .option("--correlation-id <id>", "correlation id (default: the event id)")
    .option("--causation-id <id>", "id of the event that caused this one")
    .option("--notify", "send it as a notification (core NATS, not stored) whatever notifications.types says")
    .action(async function (this: Command, type: string, json: string) {
      const o = allOptions<PubOptions>(this);
      let data: unknown;
      try {
        data = JSON.parse(json);
      } catch (err) {
        throw new UsageError(`event data is not valid JSON: ${(err as Error).message}`);
      }
      await withRuntime(o, async (rt) => {
        const notifications = notificationTypesOf(rt.config);
        const notify = o.notify === true || notifications.includes(type);
        // the store as it is: only `store apply`, `up` and `router` create or change it (a notification needs none)
        if (!notify) await ensureEventStream(await jetstreamManager(rt.nc, { checkAPI: false }), rt.config.store, StoreAccess.Use);
        const bus = new EventBus(rt.nc, { maxMsgSize: rt.config.store.max_msg_size, notifications });
        try {
          const r = await bus.publish(type, data, {
            id: o.id,
            source: o.source,
            correlationId: o.correlationId,
            causationId: o.causationId,
            notify,
          });
          // flushed before the line is printed: the server has read it (whether anyone was subscribed is not known)
          await bus.flush();
          if (o.json) process.stdout.write(JSON.stringify(r) + "\n");
          else if (r.notification) process.stdout.write(`${r.id} notified (not stored)\n`);
          else process.stdout.write(`${r.id} seq ${r.seq}${r.duplicate ? " duplicate" : ""}\n`);
        } finally {
          await bus.close();
        }
      });
    });
}
