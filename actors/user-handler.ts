import { inject, injectable } from "tsyringe";
import type { Event } from "../runtime/events/types.ts";
import { ActorTokens } from "../runtime/actor/tokens.ts";
import type { ActorContext, ActorHandler } from "../runtime/actor/types.ts";
import { delayOf, simulateWork } from "./delay.ts";

/** The seed's UserEventHandler: logs each user event and simulates 100 ms of processing. */
@injectable()
export class UserHandler implements ActorHandler {
  private readonly delayMs: number;

  constructor(@inject(ActorTokens.Options) options: Record<string, unknown>) {
    this.delayMs = delayOf(options, 100);
  }

  async handle(event: Event, ctx: ActorContext): Promise<void> {
    switch (event.type) {
      case "UserCreated":
        ctx.logger.info({ data: event.data }, "user created");
        break;
      case "UserUpdated":
        ctx.logger.info({ data: event.data }, "user updated");
        break;
      case "UserDeleted":
        ctx.logger.info({ data: event.data }, "user deleted");
        break;
      default:
        // the seed logged unknown types and succeeded; an actor only receives what the rules route to it
        ctx.logger.warn("unknown event type");
        return;
    }
    await simulateWork(this.delayMs, ctx.signal);
  }
}
