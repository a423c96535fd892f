// The chaos workload's aggregate: an account whose balance never goes below zero. A deposit is one
// event; a withdrawal is two (the amount and a fee), stored both or neither; a withdrawal the
// balance cannot cover is refused. A decision taken on a stale state would show in the store as a
// balance below zero, so the verdict (chaos/account-verdict.ts) can see a guard that let one through.
import { defineAggregate } from "../runtime/aggregate/define.ts";

export const ACCOUNT = "ChaosAccount";
/** Charged with every withdrawal, in the same decision. */
export const FEE = 1;

export type AccountCommand = Readonly<{ type: "Deposit" | "Withdraw"; amount: number }>;
export type AccountEvent =
  | Readonly<{ type: "Deposited"; data: { amount: number } }>
  | Readonly<{ type: "Withdrawn"; data: { amount: number } }>
  | Readonly<{ type: "FeeCharged"; data: { fee: number } }>;
export type AccountState = Readonly<{ balance: number }>;

/** decide throws it: nothing is stored, and the commander records the command as refused. */
export class CommandRefused extends Error {
  override name = "CommandRefused";
}

/** The events a command stores when it is accepted: what the verdict expects of every acked command. */
export function decisionOf(c: AccountCommand): AccountEvent[] {
  return c.type === "Deposit"
    ? [{ type: "Deposited", data: { amount: c.amount } }]
    : [
        { type: "Withdrawn", data: { amount: c.amount } },
        { type: "FeeCharged", data: { fee: FEE } },
      ];
}

export function evolveAccount(s: AccountState, e: Readonly<{ type: string; data: unknown }>): AccountState {
  const d = e.data as { amount?: number; fee?: number };
  switch (e.type) {
    case "Deposited":
      return { balance: s.balance + d.amount! };
    case "Withdrawn":
      return { balance: s.balance - d.amount! };
    case "FeeCharged":
      return { balance: s.balance - d.fee! };
    default:
      return s;
  }
}

export default defineAggregate<AccountState, AccountCommand, AccountEvent>({
  name: ACCOUNT,
  initial: () => ({ balance: 0 }),
  evolve: evolveAccount,
  decide(c, s) {
    if (c.type === "Withdraw" && s.balance < c.amount + FEE)
      throw new CommandRefused(`balance ${s.balance} cannot cover ${c.amount} + fee ${FEE}`);
    return decisionOf(c);
  },
  // loads read a snapshot and the events after it, so the verdict's whole fold checks snapshots too
  snapshots: { every: 20, version: 1 },
});
