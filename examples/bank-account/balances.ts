// A projection (read model) of every account's balance, built from BankAccount's stored events:
// `jetbus projection get balances <account>`, or ProjectionReader from code. Each account's entry
// changes once per event, exactly once, in store order; `jetbus projection rebuild balances`
// rebuilds it from the store (after a change to evolve) and switches readers over.
import { defineProjection } from "../../runtime/mod.ts";
import type { AccountClosed, AccountOpened, MoneyDeposited, MoneyWithdrawn, OverdraftFeeCharged } from "./bank-account.ts";

export type AccountBalance = { owner: string; balance: number; open: boolean; movements: number };

type AccountData = AccountOpened | MoneyDeposited | MoneyWithdrawn | OverdraftFeeCharged | AccountClosed;

export default defineProjection<AccountData, AccountBalance>({
  events: ["AccountOpened", "MoneyDeposited", "MoneyWithdrawn", "OverdraftFeeCharged", "AccountClosed"],
  // an aggregate's events carry their entity id as the CloudEvents subject
  key: "subject",
  initial: { owner: "", balance: 0, open: false, movements: 0 },
  evolve(state, event) {
    switch (event.type) {
      case "AccountOpened":
        return { ...state, owner: (event.data as AccountOpened).owner, open: true };
      case "MoneyDeposited":
        // a version-1 deposit reaches this function as version 2 (upcasters.ts)
        return { ...state, balance: state.balance + (event.data as MoneyDeposited).amount, movements: state.movements + 1 };
      case "MoneyWithdrawn":
        return { ...state, balance: state.balance - (event.data as MoneyWithdrawn).amount, movements: state.movements + 1 };
      case "OverdraftFeeCharged":
        return { ...state, balance: state.balance - (event.data as OverdraftFeeCharged).fee, movements: state.movements + 1 };
      case "AccountClosed":
        return { ...state, open: false };
      default:
        return state;
    }
  },
});
