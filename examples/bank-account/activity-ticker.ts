// Turns the accounts' stored money events into notifications for live dashboards: ctx.publish of a
// type the config declares a notification (`notifications.types`: "Dashboard.>") is a core NATS
// publish on notify.Dashboard.AccountActivity, never stored. A dashboard that misses one (not
// running, restarting) misses a tick, not money: the balances live in the store and the projection.
import { defineActor } from "../../runtime/mod.ts";
import type { MoneyDeposited, MoneyWithdrawn, OverdraftFeeCharged } from "./bank-account.ts";

export type AccountActivity = { account: string; kind: string; amount: number };

export default defineActor<MoneyDeposited | MoneyWithdrawn | OverdraftFeeCharged>({
  async handle(event, ctx) {
    const d = event.data as Partial<MoneyDeposited & MoneyWithdrawn & OverdraftFeeCharged>;
    const amount = event.type === "MoneyDeposited" ? (d.amount ?? 0) : -(d.amount ?? d.fee ?? 0);
    await ctx.publish("Dashboard.AccountActivity", { account: event.subject ?? "", kind: event.type, amount } satisfies AccountActivity);
  },
});
