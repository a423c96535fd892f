// An ordinary actor routed the aggregate's events: BankAccount's events are jetbus events like any
// other (routed, indexed, replayable). The account is the event's CloudEvents subject.
import { defineActor } from "../../runtime/mod.ts";
import type { OverdraftFeeCharged } from "./bank-account.ts";

export default defineActor<OverdraftFeeCharged>({
  async handle(event, ctx) {
    ctx.logger.warn({ account: event.subject, fee: event.data.fee }, "account went below zero");
  },
});
