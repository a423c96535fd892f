// The live dashboard: handles Dashboard.* notifications (fire-and-forget: no store, no retries),
// one process of it per notification however many replicas run. Here it logs each tick; a real one
// would push it to browsers (server-sent events, websockets).
import { defineActor } from "../../runtime/mod.ts";
import type { AccountActivity } from "./activity-ticker.ts";

export default defineActor<AccountActivity>({
  handle(event, ctx) {
    ctx.logger.info({ account: event.data.account, kind: event.data.kind, amount: event.data.amount }, "dashboard tick");
  },
});
