// Version 1 of MoneyDeposited had no currency: every account was in EUR. Version 2 names it.
// Events stored as version 1 stay as they are; whoever reads one (the aggregate's evolve, an actor,
// a replay) gets it as version 2 through this function. New deposits are stored as version 2.
import { defineUpcasters } from "../../runtime/mod.ts";
import type { MoneyDeposited } from "./bank-account.ts";

type MoneyDepositedV1 = { amount: number };

export default defineUpcasters({
  MoneyDeposited: {
    1: (data: MoneyDepositedV1): MoneyDeposited => ({ ...data, currency: "EUR" }),
  },
});
