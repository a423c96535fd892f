import type { Command } from "commander";
import { jetstreamManager } from "@nats-io/jetstream";
import { NotFoundError } from "../../errors.ts";
import { findSetAside, SET_ASIDE_STREAM, type SetAside } from "../../operations/set-aside.ts";
import { eventJsonLine, indexPending, openStore } from "../store-support.ts";
import { allOptions, withCommonOptions, withRuntime } from "../options.ts";

function whereText(s: SetAside): string {
  const why =
    s.kind === "quarantine"
      ? `quarantined: ${s.reason}`
      : `unrouted: no rule matched${s.revision ? ` in config revision ${s.revision}` : ""}`;
  return `${SET_ASIDE_STREAM[s.kind]} #${s.seq} (${why}; \`jetbus ${s.kind} ${s.kind === "quarantine" ? `show ${s.seq}` : "list"}\`)`;
}

function whereJson(s: SetAside): object {
  return {
    stream: SET_ASIDE_STREAM[s.kind],
    seq: s.seq,
    kind: s.kind,
    ...(s.reason ? { reason: s.reason } : {}),
    ...(s.revision ? { revision: s.revision } : {}),
  };
}

export function registerGet(program: Command): void {
  withCommonOptions(program.command("get").argument("<id>", "event id"))
    .description("print one event by id, and whether the router set it aside (quarantine, unrouted); exit 1 when jetbus holds it nowhere")
    .addHelpText(
      "after",
      "\nExamples:\n  jetbus get 5f0c6d9e-...\n  jetbus get EVENTS-42 --json     # a raw publish without Nats-Msg-Id: <stream>-<seq>",
    )
    .action(async function (this: Command, id: string) {
      const o = allOptions(this);
      await withRuntime(o, async (rt) => {
        const { store, indexer } = await openStore(rt);
        let found = await store.findById(id);
        if (!found) {
          await indexPending(await indexer());
          found = await store.findById(id);
        }
        const jsm = await jetstreamManager(rt.nc);
        // a message that does not decode is in no index: the quarantine knows it by id and store sequence
        const aside = await findSetAside(
          rt.nc,
          jsm,
          rt.config.store.stream,
          found ? { seqs: new Set([found.seq]), ids: new Set([id]), type: found.event.type } : { ids: new Set([id]) },
        );
        if (!found && aside.length === 0)
          throw new NotFoundError(
            `event ${id} not found in ${rt.config.store.stream}, ${SET_ASIDE_STREAM.quarantine} or ${SET_ASIDE_STREAM.unrouted}`,
            "check the id, or run `jetbus history` to list what the store holds (a raw publish without Nats-Msg-Id has the id <stream>-<seq>)",
          );
        if (!found) {
          const s = aside[0]!;
          if (o.json)
            process.stdout.write(
              JSON.stringify({ id, storedOn: s.subject, ...(s.originSeq ? { seq: s.originSeq } : {}), setAside: aside.map(whereJson) }) +
                "\n",
            );
          else
            process.stdout.write(
              `event ${id} does not decode as an event; stored on ${s.subject}${s.originSeq ? ` #${s.originSeq}` : ""} and held in ${aside.map(whereText).join(", ")}\n`,
            );
          return;
        }
        if (o.json)
          process.stdout.write(
            aside.length ? JSON.stringify({ ...found.event, seq: found.seq, setAside: aside.map(whereJson) }) + "\n" : eventJsonLine(found),
          );
        else {
          process.stdout.write(JSON.stringify({ ...found.event, seq: found.seq, stored: found.time.toISOString() }, null, 2) + "\n");
          for (const s of aside) process.stdout.write(`set aside by the router, routed to no actor: ${whereText(s)}\n`);
        }
      });
    });
}
