// The chaos workload's stateful actor: a counter, state `{ n }` per key = the events of that key it
// has seen (the counter of test/e2e/state-counter-kill.e2e.test.ts). Every acked event is routed to
// it, so after the run each key's n must equal that key's acked events exactly (`jetbus check
// --counter-state`). Its only effect is its state: it writes no effect file.
import { defineActor } from "../runtime/actor/define.ts";

export default defineActor<{ n: number; key: string }, { n: number }>({
  state: { key: "data.key", initial: { n: 0 } },
  async handle(_event, ctx) {
    ctx.state.set({ n: ctx.state.get().n + 1 });
  },
});
