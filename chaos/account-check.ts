// Reads what the aggregate's verdict judges: the commanders' records (commands-*.jsonl) and, per
// account, its stored events (with their command id header) and the state the runtime loads
// (snapshot plus the events after it); then chaos/account-verdict.ts.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { AggregateStore } from "../runtime/aggregate/aggregate-store.ts";
import { entityMessageOf, readEntityMessages } from "../runtime/aggregate/read.ts";
import { entityFilter } from "../runtime/events/subjects.ts";
import { connectNats } from "../runtime/nats/connect.ts";
import { Streams } from "../runtime/topology.ts";
import account, { ACCOUNT } from "./account.ts";
import { accountVerdict, type AccountRead, type AccountVerdict, type CommandRecord } from "./account-verdict.ts";
import { sleep } from "./faults.ts";
import { accountId } from "./workload-config.ts";

/** Reads of an account whose replica trails its acked commands (any replica answers a direct get), 200 ms apart. */
const STALE_READS = 25;

export function readCommandRecords(dir: string): CommandRecord[] {
  return readdirSync(dir)
    .filter((f) => f.startsWith("commands-") && f.endsWith(".jsonl"))
    .flatMap((f) =>
      readFileSync(join(dir, f), "utf8")
        .split("\n")
        // a process killed mid-write leaves at most a torn last line; its command has no answer then
        .flatMap((l) => {
          try {
            return l ? [JSON.parse(l) as CommandRecord] : [];
          } catch {
            return [];
          }
        }),
    );
}

export async function accountCheck(dir: string, servers: readonly string[], accounts: number): Promise<AccountVerdict> {
  const records = readCommandRecords(dir);
  // the highest sequence each account's acks reported: a read must reach it
  const minSeq = new Map<string, number>();
  for (const r of records) if (r.kind === "acked") minSeq.set(r.entity, Math.max(minSeq.get(r.entity) ?? 0, r.seq));
  const ids = new Set([...Array.from({ length: accounts }, (_, i) => accountId(i)), ...records.map((r) => r.entity)]);
  const nc = await connectNats({ servers: [...servers], name: "chaos-account-check", firstConnectTimeoutMs: 30_000 });
  try {
    const store = new AggregateStore(nc, { cacheSize: 0 });
    const reads: AccountRead[] = [];
    for (const id of [...ids].sort()) {
      let read: AccountRead;
      for (let tries = 1; ; tries++) {
        const raw = await readEntityMessages(nc, Streams.Events, entityFilter(ACCOUNT, id), 1);
        const events = raw
          .map((m) => entityMessageOf(m, Streams.Events))
          .map((m) => ({ seq: m.seq, command: m.command, type: m.event.type, data: m.event.data }));
        const loaded = await store.load(account, id);
        read = { id, events, loaded };
        const last = events.at(-1)?.seq ?? 0;
        if ((last >= (minSeq.get(id) ?? 0) && loaded.seq === last) || tries >= STALE_READS) break;
        await sleep(200);
      }
      reads.push(read);
    }
    return accountVerdict(reads, records);
  } finally {
    await nc.close();
  }
}
