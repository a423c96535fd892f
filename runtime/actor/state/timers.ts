import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from "@nats-io/jetstream";
import { headers as natsHeaders, type NatsConnection } from "@nats-io/transport-node";
import { encodeEvent } from "../../events/codec.ts";
import { tokenFor } from "../../events/subjects.ts";
import type { Event } from "../../events/types.ts";
import { retryTransient } from "../../nats/connect.ts";
import { isAlreadyExists } from "../../nats/errors.ts";
import { orMissing } from "../../nats/missing.ts";
import { Streams, Subjects } from "../../topology.ts";

/**
 * Durable timers on server message schedules (nats-server 2.12+): a timer is one message on
 * `timers.at.<actor>.<token>` with `Nats-Schedule: @at <time>`; at that time the server stores a
 * copy (headers and body: the timer's event in binary mode) on `timers.fire.<actor>.<token>`, and
 * removes the schedule. The stream is a work queue: the relay's ack removes a fired message, and
 * a pending schedule has no consumer, so it stays until it fires, across server restarts.
 */
export class Timers {
  private constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
  ) {}

  static async open(nc: NatsConnection, opts: { replicas: number }): Promise<Timers> {
    const jsm = await jetstreamManager(nc);
    if (!(await orMissing(() => retryTransient(() => jsm.streams.info(Streams.Timers))))) {
      const config = {
        name: Streams.Timers,
        subjects: [Subjects.timers],
        retention: "workqueue",
        num_replicas: opts.replicas,
        allow_msg_schedules: true,
      };
      try {
        await retryTransient(() => jsm.streams.add(config as never));
      } catch (err) {
        if (!isAlreadyExists(err)) throw err; // another process created it first
      }
    }
    return new Timers(jetstream(nc), jsm);
  }

  /**
   * Stores the schedule. `Nats-Msg-Id` = timer id: staging the same timer again (an outbox flushed
   * twice after a crash) inside the stream's duplicate window stores it once. The server does not
   * copy that header onto the fired message.
   */
  async schedule(actor: string, timerId: string, at: Date, event: Event): Promise<void> {
    const token = tokenFor(timerId);
    const { headers, data } = encodeEvent(event);
    headers.set("Nats-Msg-Id", `at:${timerId}`);
    headers.set("Nats-Schedule", `@at ${at.toISOString()}`);
    headers.set("Nats-Schedule-Target", Subjects.timerFire(actor, token));
    await retryTransient(() => this.js.publish(Subjects.timerSchedule(actor, token), data, { headers }));
  }

  /**
   * Asks for a pending timer to be removed: stores a request on `timers.cancel.<actor>.<token>`,
   * which the timer relay (a router) carries out with `purgeTimer`. Not a purge from here: a purge
   * names its subjects in the request body, which subject permissions cannot scope, so an actor
   * allowed to purge could purge every actor's timers; a request's subject carries the actor.
   * The relay takes requests and fired timers in stream order, so a timer that fired before the
   * request still fires. `Nats-Msg-Id` makes a request staged twice (an outbox flushed again) one.
   */
  async cancel(actor: string, timerId: string): Promise<void> {
    const headers = natsHeaders();
    headers.set("Nats-Msg-Id", `cancel:${timerId}`);
    await retryTransient(() => this.js.publish(Subjects.timerCancel(actor, tokenFor(timerId)), undefined, { headers }));
  }

  /** How many timers of one actor are pending. */
  async pending(actor: string): Promise<number> {
    const info = await retryTransient(() =>
      this.jsm.streams.info(Streams.Timers, { subjects_filter: Subjects.timerSchedule(actor, "*") } as never),
    );
    return Object.values(info.state.subjects ?? {}).reduce((a, b) => a + b, 0);
  }
}

/** Removes a timer's schedule and its fired copy (the relay, for a cancel request; needs STREAM.PURGE on JETBUS_TIMERS). */
export async function purgeTimer(jsm: JetStreamManager, actor: string, timerToken: string): Promise<void> {
  for (const filter of [Subjects.timerSchedule(actor, timerToken), Subjects.timerFire(actor, timerToken)])
    await retryTransient(() => jsm.streams.purge(Streams.Timers, { filter }));
}
