import type { Logger } from "../log.ts";
import { decodeEvent, Header } from "../events/codec.ts";
import type { Event } from "../events/types.ts";
import { EVENTS_PREFIX } from "../events/subjects.ts";
import type { StoredEventMsg } from "./copies.ts";

/** What the router sets aside instead of routing. */
export const SetAside = { Quarantined: "quarantined", Unrouted: "unrouted" } as const;
export type SetAside = (typeof SetAside)[keyof typeof SetAside];

type Policy = Readonly<{ windowMs: number; lines: number; level: "warn" | "info"; list: string }>;

/**
 * How much of it the log says. A quarantined event is a publisher's mistake someone must fix
 * (warn); an unrouted one may be expected (a type nobody handles yet), so info, over a longer
 * window. In each window (opened by the first event set aside) the first event of each type gets
 * a line of its own, at most `lines` of them; the others are counted and summed up in one line
 * when the window ends: a flood of one bad type costs 2 lines per 10 s, a flood of many types at
 * most 11. The metrics (jetbus_quarantined_total, jetbus_unrouted_total) and the streams
 * (`jetbus quarantine list`, `jetbus unrouted list`) still count and keep every one.
 */
export const SET_ASIDE_LOG_POLICY: Readonly<Record<SetAside, Policy>> = {
  quarantined: { windowMs: 10_000, lines: 10, level: "warn", list: "jetbus quarantine list" },
  unrouted: { windowMs: 60_000, lines: 10, level: "info", list: "jetbus unrouted list" },
};

type Window = {
  logged: Set<string>;
  /** Events not logged one by one, by type. */
  counted: Map<string, number>;
  timer: { cancel(): void };
};

export type SetAsideLogOptions = Readonly<{
  policy?: Readonly<Record<SetAside, Policy>>;
  /** Runs `fn` after `ms` (tests pass their own clock); the default timer does not keep a process alive. */
  after?: (ms: number, fn: () => void) => { cancel(): void };
}>;

function timer(ms: number, fn: () => void): { cancel(): void } {
  const t = setTimeout(fn, ms);
  t.unref();
  return { cancel: () => clearTimeout(t) };
}

/** The type of a message on `events.<type>` (an undecodable one has no other), else its subject. */
function typeOfSubject(subject: string): string {
  const prefix = `${EVENTS_PREFIX}.`;
  return subject.startsWith(prefix) && subject.length > prefix.length ? subject.slice(prefix.length) : subject;
}

/**
 * The id `jetbus history` and `get` know a quarantined message by: an event that failed only its
 * schema decodes (its id may come from the body, a header or its position); one that does not
 * decode has at most its Nats-Msg-Id. The second decode is paid only for the lines logged.
 */
function idOf(m: StoredEventMsg): string | undefined {
  try {
    return decodeEvent(m, { maxBytes: Number.MAX_SAFE_INTEGER }).event.id;
  } catch {
    return m.headers?.get(Header.MsgId) || undefined;
  }
}

/** Says in the log what the router set aside, by the policy above. */
export class SetAsideLog {
  private readonly windows = new Map<SetAside, Window>();
  private readonly policy: Readonly<Record<SetAside, Policy>>;
  private readonly after: NonNullable<SetAsideLogOptions["after"]>;

  constructor(
    private readonly logger: Logger,
    opts: SetAsideLogOptions = {},
  ) {
    this.policy = opts.policy ?? SET_ASIDE_LOG_POLICY;
    this.after = opts.after ?? timer;
  }

  /** A stored message that is not an admissible event went to quarantine with `reason`. */
  quarantined(m: StoredEventMsg, reason: string): void {
    const type = typeOfSubject(m.subject);
    this.note(SetAside.Quarantined, type, () => {
      const id = idOf(m);
      return { seq: m.seq, subject: m.subject, type, ...(id ? { id } : {}), reason };
    });
  }

  /** An event no rule selects went to `unrouted.<type>`. */
  unrouted(m: StoredEventMsg, event: Event, revision: number): void {
    this.note(SetAside.Unrouted, event.type, () => ({ seq: m.seq, type: event.type, id: event.id, configRevision: revision }));
  }

  /** Logs the summary of every open window now (a stopping router): nothing counted is left unsaid. */
  flush(): void {
    for (const kind of [...this.windows.keys()]) this.close(kind);
  }

  private note(kind: SetAside, type: string, fields: () => Record<string, unknown>): void {
    const p = this.policy[kind];
    let w = this.windows.get(kind);
    if (!w) {
      w = { logged: new Set(), counted: new Map(), timer: this.after(p.windowMs, () => this.close(kind)) };
      this.windows.set(kind, w);
    }
    if (!w.logged.has(type) && w.logged.size < p.lines) {
      w.logged.add(type);
      const what = kind === SetAside.Quarantined ? "quarantined, not routed" : "unrouted: no rule selects it";
      this.logger[p.level]({ component: "router", ...fields() }, `event ${what} (\`${p.list}\` shows it)`);
      return;
    }
    w.counted.set(type, (w.counted.get(type) ?? 0) + 1);
  }

  private close(kind: SetAside): void {
    const w = this.windows.get(kind);
    if (!w) return;
    this.windows.delete(kind);
    w.timer.cancel();
    if (w.counted.size === 0) return;
    const p = this.policy[kind];
    const events = [...w.counted.values()].reduce((a, b) => a + b, 0);
    this.logger[p.level](
      { component: "router", events, byType: Object.fromEntries(w.counted), windowMs: p.windowMs },
      `${events} more event(s) ${kind} in the last ${p.windowMs / 1000} s, not logged one by one (\`${p.list}\` shows them)`,
    );
  }
}
