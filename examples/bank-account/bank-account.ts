// A bank account as an event-sourced aggregate: its state is the fold of its own events, and each
// command is decided on that state. `jetbus aggregate show BankAccount <id>` prints it; in your own
// project, import from "jetbus" instead of the repository path.
import { defineAggregate } from "../../runtime/mod.ts";

// The account's id is not in the data: every event of an entity carries it as its CloudEvents
// `subject` (event.subject), and an actor routed these events reads it there.
export type AccountOpened = { owner: string; overdraft_limit: number };
/** Version 2: amounts carry their currency (version 1 had none: all were EUR, see upcasters.ts). */
export type MoneyDeposited = { amount: number; currency: string };
export type MoneyWithdrawn = { amount: number };
export type OverdraftFeeCharged = { fee: number };
export type AccountClosed = { reason?: string };

export type AccountEvent =
  | { type: "AccountOpened"; data: AccountOpened }
  | { type: "MoneyDeposited"; data: MoneyDeposited }
  | { type: "MoneyWithdrawn"; data: MoneyWithdrawn }
  | { type: "OverdraftFeeCharged"; data: OverdraftFeeCharged }
  | { type: "AccountClosed"; data: AccountClosed };

export type AccountCommand =
  | { type: "Open"; owner: string; overdraft_limit?: number }
  | { type: "Deposit"; amount: number; currency?: string }
  | { type: "Withdraw"; amount: number }
  | { type: "Close" };

export type Account = { status: "new" | "open" | "closed"; owner?: string; balance: number; overdraft_limit: number; deposits: number };

/** Going below zero costs this much, charged in the same decision as the withdrawal. */
export const OVERDRAFT_FEE = 5;

/** A refused command: decide throws it, nothing is stored, and the caller gets it. */
export class CommandRefused extends Error {
  override name = "CommandRefused";
}

export default defineAggregate<Account, AccountCommand, AccountEvent>({
  name: "BankAccount",
  initial: () => ({ status: "new", balance: 0, overdraft_limit: 0, deposits: 0 }),
  evolve(state, event) {
    switch (event.type) {
      case "AccountOpened":
        return { ...state, status: "open", owner: event.data.owner, overdraft_limit: event.data.overdraft_limit };
      case "MoneyDeposited":
        return { ...state, balance: state.balance + event.data.amount, deposits: state.deposits + 1 };
      case "MoneyWithdrawn":
        return { ...state, balance: state.balance - event.data.amount };
      case "OverdraftFeeCharged":
        return { ...state, balance: state.balance - event.data.fee };
      case "AccountClosed":
        return { ...state, status: "closed" };
    }
  },
  decide(command, state): AccountEvent | AccountEvent[] {
    switch (command.type) {
      case "Open":
        if (state.status !== "new") throw new CommandRefused("the account is already open");
        return { type: "AccountOpened", data: { owner: command.owner, overdraft_limit: command.overdraft_limit ?? 0 } };
      case "Deposit":
        if (state.status !== "open") throw new CommandRefused(`cannot deposit to a ${state.status} account`);
        if (!(command.amount > 0)) throw new CommandRefused("a deposit must be positive");
        return { type: "MoneyDeposited", data: { amount: command.amount, currency: command.currency ?? "EUR" } };
      case "Withdraw": {
        if (state.status !== "open") throw new CommandRefused(`cannot withdraw from a ${state.status} account`);
        const after = state.balance - command.amount;
        if (after < -state.overdraft_limit)
          throw new CommandRefused(`insufficient funds: balance ${state.balance}, overdraft limit ${state.overdraft_limit}`);
        const withdrawn = { type: "MoneyWithdrawn", data: { amount: command.amount } } as const;
        // two events, stored both or neither: the withdrawal and the fee for going below zero
        return after < 0 ? [withdrawn, { type: "OverdraftFeeCharged", data: { fee: OVERDRAFT_FEE } }] : withdrawn;
      }
      case "Close":
        if (state.status !== "open") throw new CommandRefused(`cannot close a ${state.status} account`);
        if (state.balance !== 0) throw new CommandRefused(`the balance is ${state.balance}, not 0`);
        return { type: "AccountClosed", data: { reason: "closed by its owner" } };
    }
  },
  snapshots: { every: 100, version: 1 },
});
