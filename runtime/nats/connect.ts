import { readFileSync } from "node:fs";
import { connect, credsAuthenticator, nkeyAuthenticator, type NatsConnection, type NodeConnectionOptions } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { TimeoutError } from "../errors.ts";

export type NatsAuth = Readonly<{
  user?: string;
  pass?: string;
  token?: string;
  /** Path of a file holding an NKey seed (SU...). */
  nkey_seed_file?: string;
  /** Path of a decentralised-auth `.creds` file. */
  creds_file?: string;
  tls?: Readonly<{ ca?: string; cert?: string; key?: string }>;
}>;

export type ConnectOptions = NatsAuth & Readonly<{ servers: string | readonly string[]; name?: string }>;

/**
 * A connection that never gives up: jetbus processes are long-lived workers, so losing every
 * server pauses them until one is back instead of ending them.
 */
export async function connectNats(o: ConnectOptions): Promise<NatsConnection> {
  const opts: NodeConnectionOptions = {
    servers: typeof o.servers === "string" ? o.servers.split(",") : [...o.servers],
    name: o.name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    waitOnFirstConnect: true,
  };
  if (o.user) Object.assign(opts, { user: o.user, pass: o.pass });
  if (o.token) opts.token = o.token;
  if (o.creds_file) opts.authenticator = credsAuthenticator(readFileSync(o.creds_file));
  if (o.nkey_seed_file) opts.authenticator = nkeyAuthenticator(new TextEncoder().encode(readFileSync(o.nkey_seed_file, "utf8").trim()));
  if (o.tls) opts.tls = { caFile: o.tls.ca, certFile: o.tls.cert, keyFile: o.tls.key };
  return connect(opts);
}

/**
 * True for the errors a cluster gives while it elects a leader or a node restarts. The v3 client
 * reports "no responders" on a JetStream API subject as "jetstream is not enabled".
 */
export function isTransient(err: unknown): boolean {
  const e = err as { name?: string; message?: string; code?: unknown; retryable?: boolean } | undefined;
  if (!e) return false;
  if (e.retryable === true) return true;
  const text = `${e.name ?? ""} ${e.message ?? ""}`.toLowerCase();
  return /jetstream is not enabled|jetstreamnotenabled|no responders|noresponders|timeout|timed out|disconnect|connection closed|reconnect|leader|not current|insufficient resources|stream offline|temporarily unavailable|503/.test(text);
}

/** Waits until the JetStream API answers (a fresh cluster needs a meta leader first). */
export async function waitForJetStream(nc: NatsConnection, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const jsm = await jetstreamManager(nc, { timeout: 2000 });
      await jsm.getAccountInfo();
      return;
    } catch (err) {
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
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (!isTransient(err) || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 1000);
    }
  }
}
