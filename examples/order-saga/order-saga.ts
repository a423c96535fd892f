// The order saga: OrderPlaced -> PaymentRequested -> PaymentConfirmed, or no payment within the
// timeout -> OrderCancelled. One state per order (keyed by data.order_id), a durable timer for the
// timeout, follow-up events committed together with the state. In your own project, import from
// "jetbus" instead of the repository path.
import { defineActor } from "../../runtime/mod.ts";

type OrderEvent = { order_id: string; total?: number };
type OrderState = { status: "new" | "awaiting-payment" | "paid" | "cancelled"; timer?: string; total?: number };

export default defineActor<OrderEvent, OrderState>({
  state: { key: "data.order_id", initial: { status: "new" } },
  async handle(event, ctx) {
    const order = ctx.state.get();
    const { order_id } = event.data;
    switch (event.type) {
      case "OrderPlaced": {
        if (order.status !== "new") return; // placed twice: the first one stands
        const timeout = String(ctx.options.payment_timeout ?? "15m");
        const timer = ctx.schedule("PaymentTimedOut", { order_id }, { in: timeout });
        ctx.state.set({ status: "awaiting-payment", timer, total: event.data.total });
        await ctx.publish("PaymentRequested", { order_id, total: event.data.total });
        return;
      }
      case "PaymentConfirmed": {
        if (order.status !== "awaiting-payment") return; // too late, or paid already
        if (order.timer) ctx.cancel(order.timer);
        ctx.state.set({ status: "paid", total: order.total });
        await ctx.publish("OrderConfirmed", { order_id });
        return;
      }
      case "PaymentTimedOut": {
        if (order.status !== "awaiting-payment") return; // paid before the timer fired
        ctx.state.set({ status: "cancelled", total: order.total });
        await ctx.publish("OrderCancelled", { order_id, reason: "payment timeout" });
        return;
      }
    }
  },
});
