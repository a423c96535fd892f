import { Buckets, Consumers, Streams, Subjects, indexStreamFor } from "../topology.ts";

/** The roles of a jetbus deployment, each with its own NATS user and the least it needs. */
export const Roles = { Admin: "admin", Publisher: "publisher", Router: "router", Actor: "actor" } as const;
export type Role = (typeof Roles)[keyof typeof Roles];

export type RoleUser = Readonly<{
  user: string;
  role: Role;
  actor?: string;
  /** Environment variable nats-server reads the password from (`password: $VAR`): no secret in any file. */
  passwordVar: string;
  /** Inbox prefix the client must use (`inbox_prefix`): replies are private to this user. */
  inboxPrefix?: string;
  /** Undefined for admin: everything is allowed. */
  publish?: readonly string[];
  subscribe?: readonly string[];
}>;

/** What the permissions need to know about an actor: its name and, if ordered, its partitions. */
export type ActorShape = Readonly<{ name: string; ordered?: { partitions: number }; delivery?: "copy" | "direct" }>;

export const Users = {
  admin: "jetbus-admin",
  publisher: "jetbus-publisher",
  router: "jetbus-router",
  /** An actor's user is the actor's name: operators read one name everywhere. */
  actor: (name: string) => name,
} as const;

/** The account jetbus lives in (also what KEDA's scaler and /jsz?acc= name). */
export const JetbusAccount = "JETBUS";

const API = "$JS.API";

export function passwordVarFor(user: string): string {
  return `JETBUS_PASS_${user
    .replace(/^jetbus-/, "")
    .replace(/[^A-Za-z0-9]/g, "_")
    .toUpperCase()}`;
}

/** `_INBOX.<user>`: a user may only subscribe below its own prefix, so nobody snoops on another's replies. */
export function inboxPrefixFor(user: string): string {
  return `_INBOX.${user}`;
}

/** The durable consumers an actor reads: one, or one per partition when ordered. */
export function actorDurables(a: ActorShape): string[] {
  if (!a.ordered) return [Consumers.actor(a.name)];
  return Array.from({ length: a.ordered.partitions }, (_, k) => Consumers.actorPartition(a.name, k));
}

/** Info, create (2.9 and 2.10 APIs), fetch and ack on one durable: what a bound pull consumer uses. */
function durableUse(stream: string, durable: string): string[] {
  return [
    `${API}.CONSUMER.INFO.${stream}.${durable}`,
    `${API}.CONSUMER.CREATE.${stream}.${durable}`,
    `${API}.CONSUMER.CREATE.${stream}.${durable}.>`,
    `${API}.CONSUMER.DURABLE.CREATE.${stream}.${durable}`,
    `${API}.CONSUMER.MSG.NEXT.${stream}.${durable}`,
    `$JS.ACK.${stream}.${durable}.>`,
  ];
}

/** Create, read, write and watch one KV bucket (watch = an ordered push consumer on its stream). */
function kvUse(bucket: string, keys = ">"): string[] {
  const s = `KV_${bucket}`;
  return [
    `${API}.STREAM.INFO.${s}`,
    `${API}.STREAM.CREATE.${s}`,
    `${API}.STREAM.MSG.GET.${s}`,
    `${API}.DIRECT.GET.${s}`,
    `${API}.DIRECT.GET.${s}.>`,
    `${API}.CONSUMER.CREATE.${s}`,
    `${API}.CONSUMER.CREATE.${s}.>`,
    `$JS.FC.${s}.>`,
    `$KV.${bucket}.${keys}`,
  ];
}

/**
 * A stateful actor's own bucket on top of kvUse: the store turns on atomic batches and TTLs at open
 * (STREAM.UPDATE), and list/history pull ONE ordered consumer over `s.>` (next, info on reset, delete).
 */
function stateUse(actor: string): string[] {
  const s = `KV_${Buckets.state(actor)}`;
  return [
    ...kvUse(Buckets.state(actor)),
    `${API}.STREAM.UPDATE.${s}`,
    `${API}.CONSUMER.INFO.${s}.>`,
    `${API}.CONSUMER.MSG.NEXT.${s}.>`,
    `${API}.CONSUMER.DELETE.${s}.>`,
  ];
}

/**
 * `ctx.schedule` and `ctx.cancel`: schedules go only to `timers.at.<actor>.>`, cancel requests to
 * `timers.cancel.<actor>.>`, which the timer relay carries out. No STREAM.PURGE: a purge names its
 * subjects in the request body, which permissions cannot scope, so it would reach every actor's timers.
 */
function timersUse(actor: string): string[] {
  return [
    `${API}.STREAM.INFO.${Streams.Timers}`,
    `${API}.STREAM.CREATE.${Streams.Timers}`,
    Subjects.timerSchedule(actor, ">"),
    Subjects.timerCancel(actor, ">"),
  ];
}

/** Heartbeats: write only below `<keyPrefix>.` (`actor.<name>` / `router`); whoever starts first creates the bucket. */
function presenceUse(keyPrefix: string): string[] {
  const s = `KV_${Buckets.Presence}`;
  return [`${API}.STREAM.INFO.${s}`, `${API}.STREAM.CREATE.${s}`, `${API}.DIRECT.GET.${s}.>`, `$KV.${Buckets.Presence}.${keyPrefix}.>`];
}

/**
 * Every user of a deployment with the subjects it may use. Streams and buckets are provisioned
 * by the admin (or whoever first runs as admin); the roles only bind to what exists, except the
 * KV buckets and durables that are theirs alone.
 */
export function roleUsers(actors: readonly ActorShape[], opts: { eventsStream?: string } = {}): RoleUser[] {
  const events = opts.eventsStream ?? Streams.Events;
  // Names, configs and counters of every inbox durable (never messages): the runtime's ensureInbox
  // checks all configured durables at start-up; creating them is the admin's job (cluster up provisions).
  const inboxConsumerInfo = [
    `${API}.CONSUMER.LIST.${Streams.Inbox}`,
    `${API}.CONSUMER.NAMES.${Streams.Inbox}`,
    `${API}.CONSUMER.INFO.${Streams.Inbox}.*`,
  ];
  const user = (role: Role, name: string, publish: string[], subscribe: string[] = [], actor?: string): RoleUser => ({
    user: name,
    role,
    actor,
    passwordVar: passwordVarFor(name),
    inboxPrefix: inboxPrefixFor(name),
    publish,
    subscribe: [`${inboxPrefixFor(name)}.>`, ...subscribe],
  });
  const users: RoleUser[] = [
    { user: Users.admin, role: Roles.Admin, passwordVar: passwordVarFor(Users.admin) },
    // publish events, plus two read-only API calls jetbus's own publishers make (is JetStream there, is the store there)
    user(Roles.Publisher, Users.publisher, [`${Subjects.events}.>`, `${API}.INFO`, `${API}.STREAM.INFO.${events}`]),
    user(Roles.Router, Users.router, [
      `${API}.INFO`,
      `${API}.STREAM.INFO.${events}`,
      ...[Streams.Inbox, Streams.Unrouted, Streams.Quarantine].flatMap((s) => [`${API}.STREAM.INFO.${s}`, `${API}.STREAM.CREATE.${s}`]),
      `${API}.STREAM.INFO.${Streams.DeadLetter}`,
      ...inboxConsumerInfo,
      ...durableUse(events, Consumers.router),
      // the ordered lane: one more durable, pulled by every router, delivered to the pinned one; a stopping router unpins itself
      ...durableUse(events, Consumers.routerOrdered),
      `${API}.CONSUMER.UNPIN.${events}.${Consumers.routerOrdered}`,
      // a lane taking over re-reads the delivered-but-unacked events straight from the store, in order (batched direct gets)
      `${API}.STREAM.MSG.GET.${events}`,
      `${API}.DIRECT.GET.${events}`,
      // the router writes the index stream on its own delivery of each event
      `${API}.STREAM.INFO.${indexStreamFor(events)}`,
      `${API}.STREAM.CREATE.${indexStreamFor(events)}`,
      // the indexer durable of jetbus before 0.3, in an upgraded deployment: its position read, then deleted
      `${API}.CONSUMER.INFO.${events}.${Consumers.indexer}`,
      `${API}.CONSUMER.DELETE.${events}.${Consumers.indexer}`,
      // an id entry that exists already is read once (direct get, or the API get where direct is off)
      `${API}.DIRECT.GET.${indexStreamFor(events)}`,
      `${API}.DIRECT.GET.${indexStreamFor(events)}.>`,
      `${API}.STREAM.MSG.GET.${indexStreamFor(events)}`,
      Subjects.indexAll(events),
      "actors.>",
      "unrouted.>",
      "quarantine.>",
      ...kvUse(Buckets.Config),
      ...presenceUse(Roles.Router),
      // the timer relay runs beside the router: it pulls fired timers (durable jetbus-timers) and stores each as an event
      `${API}.STREAM.INFO.${Streams.Timers}`,
      `${API}.STREAM.CREATE.${Streams.Timers}`,
      // carrying out actors' cancel requests (timers.cancel.<actor>.<token>): purge that timer's subjects
      `${API}.STREAM.PURGE.${Streams.Timers}`,
      ...durableUse(Streams.Timers, Consumers.timerRelay),
      `${Subjects.events}.>`,
      // direct actors' store durables: the router keeps their filter_subjects in step with the live config
      ...actors
        .filter((a) => a.delivery === "direct")
        .flatMap((a) =>
          durableUse(events, Consumers.direct(a.name)).filter((x) => x.includes(".CONSUMER.INFO.") || x.includes(".CONSUMER.CREATE.")),
        ),
    ]),
  ];
  for (const a of actors) {
    const name = Users.actor(a.name);
    users.push(
      user(
        Roles.Actor,
        name,
        [
          `${API}.INFO`,
          `${API}.STREAM.INFO.${Streams.Inbox}`,
          `${API}.STREAM.INFO.${Streams.DeadLetter}`,
          ...inboxConsumerInfo,
          ...actorDurables(a).flatMap((d) => durableUse(Streams.Inbox, d)),
          // one hop: its own durable on the store (a new one starts at the router's ack floor)
          ...(a.delivery === "direct"
            ? [...durableUse(events, Consumers.direct(a.name)), `${API}.CONSUMER.INFO.${events}.${Consumers.router}`]
            : []),
          `${Subjects.events}.>`,
          Subjects.deadLetter(a.name),
          ...kvUse(Buckets.processed(a.name)),
          // whether an actor is stateful is only known from its module: every actor may use its own state and timers
          ...stateUse(a.name),
          ...timersUse(a.name),
          ...presenceUse(`${Roles.Actor}.${a.name}`),
        ],
        [],
        a.name,
      ),
    );
  }
  return users;
}

function list(xs: readonly string[], indent: string): string {
  return `[\n${xs.map((x) => `${indent}  ${JSON.stringify(x)}`).join(",\n")}\n${indent}]`;
}

/**
 * The `accounts {}` block of a nats-server config. Passwords are `$VAR` references that
 * nats-server resolves from its environment at start-up.
 */
export function renderAccountsConf(users: readonly RoleUser[]): string {
  const lines = [
    "# Generated by `jetbus cluster accounts` from jetbus.config.json and runtime/topology.ts: do not edit by hand.",
    "# One account for jetbus with JetStream; one user per role. Passwords come from the environment of",
    "# nats-server (`password: $VAR`); set every JETBUS_PASS_* variable below before starting a node.",
    "# Each user may only subscribe below its own inbox prefix (_INBOX.<user>.>): clients must connect with",
    "# that inbox prefix (jetbus does so by itself; the nats CLI takes --inbox-prefix).",
    "accounts {",
    `  ${JetbusAccount} {`,
    "    jetstream: enabled",
    "    users: [",
  ];
  users.forEach((u, i) => {
    lines.push(`      # ${u.role}${u.actor ? ` ${u.actor}` : ""}`);
    lines.push("      {");
    lines.push(`        user: ${JSON.stringify(u.user)}`);
    lines.push(`        password: $${u.passwordVar}`);
    if (u.publish && u.subscribe) {
      lines.push("        permissions: {");
      lines.push(`          publish: { allow: ${list(u.publish, "          ")} }`);
      lines.push(`          subscribe: { allow: ${list(u.subscribe, "          ")} }`);
      lines.push("        }");
    }
    lines.push(`      }${i < users.length - 1 ? "," : ""}`);
  });
  lines.push("    ]", "  }", "}");
  return lines.join("\n") + "\n";
}
