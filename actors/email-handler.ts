import { inject, injectable } from "tsyringe";
import type { Event } from "../runtime/events/types.ts";
import { ActorTokens } from "../runtime/actor/tokens.ts";
import type { ActorContext, ActorHandler } from "../runtime/actor/types.ts";
import { delayOf, simulateWork } from "./delay.ts";

const EMAIL_OF = { UserCreated: "welcome", UserUpdated: "update", UserDeleted: "goodbye" } as const;

/** The seed's EmailEventHandler: a welcome, update or goodbye email per user event, 200 ms each. */
@injectable()
export class EmailHandler implements ActorHandler {
  private readonly delayMs: number;

  constructor(@inject(ActorTokens.Options) options: Record<string, unknown>) {
    this.delayMs = delayOf(options, 200);
  }

  async handle(event: Event, ctx: ActorContext): Promise<void> {
    const kind = EMAIL_OF[event.type as keyof typeof EMAIL_OF];
    if (!kind) {
      ctx.logger.warn("unknown event type");
      return;
    }
    const to = (event.data as { email?: unknown } | null)?.email;
    ctx.logger.info({ to, email: kind }, `sending ${kind} email`);
    await simulateWork(this.delayMs, ctx.signal);
  }
}
