import type { NatsConnection } from "@nats-io/transport-node";
import { TimerRelay } from "../actor/state/timer-relay.ts";
import { Timers } from "../actor/state/timers.ts";
import type { Logger } from "../log.ts";
import { EventBus } from "../store/bus.ts";

/** The relay that moves fired timers into the store, as routers run it (creates JETBUS_TIMERS when missing). */
export async function startTimerRelay(
  rt: Readonly<{ nc: NatsConnection; logger: Logger; config: { store: { replicas: number; max_msg_size: number } } }>,
): Promise<TimerRelay> {
  await Timers.open(rt.nc, { replicas: rt.config.store.replicas });
  const bus = new EventBus(rt.nc, { maxMsgSize: rt.config.store.max_msg_size });
  const relay = new TimerRelay(
    rt.nc,
    (e) => bus.publishEvent(e),
    rt.logger,
    (cutShort) => bus.close(cutShort),
  );
  await relay.start();
  return relay;
}
