import { readFileSync } from "node:fs";
import { credsAuthenticator, nkeyAuthenticator, type NatsConnection, type NodeConnectionOptions } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { NatsServerTooOldError, NatsUnreachableError, TimeoutError } from "../errors.ts";
import { isPermission, isTransient } from "./errors.ts";
import { reportStartupRetry } from "./startup-report.ts";
import { checkServerUrls } from "./server-url.ts";
import { connectClosingAttempts } from "./transport.ts";
import { formatVersion, NATS_SERVER_FLOOR, parseVersion, versionAtLeast } from "./version.ts";

export type NatsAuth = Readonly<{
  user?: string;
  pass?: string;
  token?: string;
  /** Path of a file holding an NKey seed (SU...). */
  nkey_seed_file?: string;
  /** Path of a decentralised-auth `.creds` file. */
  creds_file?: string;
  tls?: Readonly<{ ca?: string; cert?: string; key?: string }>;
  /**
   * Prefix of reply subjects. Defaults to `_INBOX.<user>` when a user is named, matching the
   * deploy/ permissions that let each user subscribe only below its own prefix.
   */
  inbox_prefix?: string;
}>;

/** One failed first-connection attempt, for the log of a process that keeps trying. */
export type ConnectAttempt = Readonly<{ attempt: number; servers: readonly string[]; cause: string; retryInMs: number }>;

export type ConnectOptions = NatsAuth &
  Readonly<{
    servers: string | readonly string[];
    name?: string;
    /**
     * How long the first connection may take before NatsUnreachableError; undefined = keep
     * trying forever (long-running processes). Reconnects after that are always unlimited.
     */
    firstConnectTimeoutMs?: number;
    /** Called after each failed first-connection attempt that will be retried. */
    onRetry?: (a: ConnectAttempt) => void;
  }>;

/**
 * What one-shot commands allow a first connection, retries included (a refused port is retried
 * too: a server may be starting). 4.5 s leaves start-up and exit room within the 6 s a command
 * that cannot reach its server may take (issue 22; test/e2e/connect-unreachable.e2e.test.ts).
 */
export const ONE_SHOT_CONNECT_TIMEOUT_MS = 4_500;
/** Per attempt: the client's default of 20s would leave a one-shot command silent for that long on a dropped SYN. */
const ATTEMPT_TIMEOUT_MS = 2_000;
/** Backoff between first-connection attempts: 250ms doubling to 5s, so a server that starts late is joined quickly. */
const FIRST_RETRY_MS = 250;
const MAX_RETRY_MS = 5_000;

/** Error codes and client error names that mean "nobody answered there" (worth another try), not "refused us". */
const UNREACHABLE_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ETIMEDOUT",
  "EPIPE",
]);
const UNREACHABLE_NAMES = new Set(["ConnectionError", "TimeoutError"]);

function unreachable(err: unknown): boolean {
  const e = err as { name?: string; code?: string; cause?: { code?: string } } | undefined;
  return UNREACHABLE_NAMES.has(e?.name ?? "") || UNREACHABLE_CODES.has(e?.code ?? "") || UNREACHABLE_CODES.has(e?.cause?.code ?? "");
}

/** "connection refused (connect ECONNREFUSED 127.0.0.1:1)": the client's summary plus the socket's own words. */
function causeOf(err: unknown): string {
  const e = err as { message?: string; cause?: { message?: string } } | undefined;
  const own = e?.message ?? String(err);
  const inner = e?.cause?.message;
  return inner && inner !== own ? `${own} (${inner})` : own;
}

/**
 * Credentials from the environment (NATS_USER, NATS_PASSWORD, NATS_TOKEN, NATS_NKEY_SEED_FILE,
 * NATS_CREDS_FILE, NATS_TLS_CA/CERT/KEY): containers get secrets as env vars, and the same image
 * and config serve every role. Only the variables that are set are returned.
 */
export function authFromEnv(env: NodeJS.ProcessEnv = process.env): NatsAuth {
  const auth: { -readonly [K in keyof NatsAuth]: NatsAuth[K] } = {};
  if (env.NATS_USER) auth.user = env.NATS_USER;
  if (env.NATS_PASSWORD) auth.pass = env.NATS_PASSWORD;
  if (env.NATS_TOKEN) auth.token = env.NATS_TOKEN;
  if (env.NATS_NKEY_SEED_FILE) auth.nkey_seed_file = env.NATS_NKEY_SEED_FILE;
  if (env.NATS_CREDS_FILE) auth.creds_file = env.NATS_CREDS_FILE;
  if (env.NATS_TLS_CA || env.NATS_TLS_CERT || env.NATS_TLS_KEY)
    auth.tls = { ca: env.NATS_TLS_CA, cert: env.NATS_TLS_CERT, key: env.NATS_TLS_KEY };
  return auth;
}

/**
 * Connects, trying every server in turn, again and again with backoff until `firstConnectTimeoutMs`
 * (one-shot commands: NatsUnreachableError naming the URLs and the cause) or forever (workers:
 * each attempt reported through `onRetry`). Once connected the connection never gives up: losing
 * every server pauses a worker until one is back instead of ending it. Refusals that waiting
 * cannot fix (authorization, TLS) are thrown at once.
 */
export async function connectNats(given: ConnectOptions): Promise<NatsConnection> {
  const opts = clientOptions(given);
  const servers = opts.servers as string[];
  checkServerUrls(servers);
  const started = Date.now();
  const deadline = given.firstConnectTimeoutMs === undefined ? Infinity : Date.now() + given.firstConnectTimeoutMs;
  let delay = FIRST_RETRY_MS;
  for (let attempt = 1; ; attempt++) {
    let nc: NatsConnection;
    try {
      nc = await connectClosingAttempts({ ...opts, timeout: Math.max(250, Math.min(ATTEMPT_TIMEOUT_MS, deadline - Date.now())) });
    } catch (err) {
      if (!unreachable(err)) throw err;
      if (Date.now() + delay >= deadline) throw new NatsUnreachableError(servers, causeOf(err), attempt, Date.now() - started, err);
      given.onRetry?.({ attempt, servers, cause: causeOf(err), retryInMs: delay });
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, MAX_RETRY_MS);
      continue;
    }
    await refuseOldServer(nc);
    return nc;
  }
}

function clientOptions(given: ConnectOptions): NodeConnectionOptions {
  // like NATS_URL over nats.servers: the environment wins over the config file
  const o: ConnectOptions = { ...given, ...authFromEnv() };
  const opts: NodeConnectionOptions = {
    servers: (typeof o.servers === "string" ? o.servers.split(",") : [...o.servers]).map((s) => s.trim()).filter(Boolean),
    name: o.name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    // the loop in connectNats retries the first connection itself, so it can log and give up
    waitOnFirstConnect: false,
  };
  if (o.user) Object.assign(opts, { user: o.user, pass: o.pass });
  if (o.token) opts.token = o.token;
  if (o.creds_file) opts.authenticator = credsAuthenticator(readFileSync(o.creds_file));
  if (o.nkey_seed_file) opts.authenticator = nkeyAuthenticator(new TextEncoder().encode(readFileSync(o.nkey_seed_file, "utf8").trim()));
  if (o.tls && (o.tls.ca || o.tls.cert || o.tls.key)) {
    // only the files that are named: an undefined caFile would replace Node's default CAs with none
    const tls: NonNullable<NodeConnectionOptions["tls"]> = {};
    if (o.tls.ca) tls.caFile = o.tls.ca;
    if (o.tls.cert) tls.certFile = o.tls.cert;
    if (o.tls.key) tls.keyFile = o.tls.key;
    opts.tls = tls;
  }
  const inboxPrefix = o.inbox_prefix ?? (o.user ? `_INBOX.${o.user}` : undefined);
  if (inboxPrefix) opts.inboxPrefix = inboxPrefix;
  return opts;
}

/** jetbus relies on server features of its floor release: an older server is refused at once, by name. */
async function refuseOldServer(nc: NatsConnection): Promise<void> {
  const info = nc.info;
  const found = info ? parseVersion(info.version) : undefined;
  if (!info || !found || versionAtLeast(found, NATS_SERVER_FLOOR)) return;
  await nc.close();
  throw new NatsServerTooOldError(
    `${info.server_name || info.server_id} (${nc.getServer()})`,
    info.version,
    formatVersion(NATS_SERVER_FLOOR),
  );
}

/** Waits until the JetStream API answers (a fresh cluster needs a meta leader first). */
export async function waitForJetStream(nc: NatsConnection, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      // checkAPI off: it would ask for the account info too, one round trip more for the same answer
      const jsm = await jetstreamManager(nc, { timeout: 2000, checkAPI: false });
      await jsm.getAccountInfo();
      return;
    } catch (err) {
      // a user not allowed to ask will never be allowed by waiting
      if (isPermission(err)) throw err;
      last = err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new TimeoutError(`JetStream did not become available within ${timeoutMs} ms: ${(last as Error)?.message ?? "no answer"}`);
}

/** Runs `fn` again on transient errors (leader elections, reconnects) until it succeeds or time runs out. */
export async function retryTransient<T>(fn: () => Promise<T>, opts: { timeoutMs?: number; delayMs?: number } = {}): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  let delay = opts.delayMs ?? 50;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!isTransient(err) || Date.now() > deadline) throw err;
      // during a service's start-up its log says so (a no-op otherwise)
      reportStartupRetry({ attempt, err, retryInMs: delay });
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 1000);
    }
  }
}
