import { parseConfigText } from "../config/load.ts";
import { validateConfig } from "../config/validate.ts";
import { ConfigError, UsageError, type Problem } from "../errors.ts";
import { ConfigStore } from "../routing/config-store.ts";
import { orMissing } from "../nats/missing.ts";
import { kvStream } from "../operations/kv-read.ts";
import { Buckets } from "../topology.ts";
import type { ConsoleContext } from "./context.ts";

const SOURCE = "console edit";

/** GET /api/config: every kept revision (oldest first) with its whole config; the last is current. */
export async function configRevisions(ctx: ConsoleContext) {
  const jsm = await ctx.jsm();
  // reading never creates the bucket
  if (!(await orMissing(() => jsm.streams.info(kvStream(Buckets.Config))))) return { revisions: [] };
  const store = await ConfigStore.open(ctx.nc, { replicas: ctx.deps.config.store.replicas });
  const all = await store.history();
  return { revisions: all.map((h) => ({ revision: h.revision, at: h.at.toISOString(), config: h.config })) };
}

function textOf(body: Record<string, unknown>): string {
  if (typeof body.text !== "string") throw new UsageError("body.text must hold the config as JSON text");
  return body.text;
}

/** Every problem of an edited config (JSON syntax with line and column, else schema and semantic checks with JSON paths). */
export function checkConfigText(text: string): { problems: Problem[]; doc?: unknown } {
  let doc: unknown;
  try {
    doc = parseConfigText(text, SOURCE);
  } catch (err) {
    if (err instanceof ConfigError) return { problems: [...err.problems] };
    throw err;
  }
  const { problems } = validateConfig(doc);
  return problems.length ? { problems } : { problems, doc };
}

/** POST /api/config/validate {text}: nothing is stored. */
export function validateText(body: Record<string, unknown>) {
  const { problems } = checkConfigText(textOf(body));
  return { valid: problems.length === 0, problems };
}

/** POST /api/config/apply {text}: validated first; an invalid config is refused (422) and nothing is stored. */
export async function applyText(ctx: ConsoleContext, body: Record<string, unknown>) {
  const text = textOf(body);
  const { problems, doc } = checkConfigText(text);
  if (problems.length) throw new ConfigError(SOURCE, problems);
  const store = await ConfigStore.open(ctx.nc, { replicas: ctx.deps.config.store.replicas });
  const stored = await store.apply(doc, SOURCE);
  return { revision: stored.revision, at: stored.at.toISOString() };
}

/** POST /api/config/rollback {revision}: that revision's config stored again as a new revision. */
export async function rollbackTo(ctx: ConsoleContext, body: Record<string, unknown>) {
  const rev = Number(body.revision);
  if (!Number.isInteger(rev) || rev < 1) throw new UsageError(`revision must be a whole number >= 1, got ${JSON.stringify(body.revision)}`);
  const store = await ConfigStore.open(ctx.nc, { replicas: ctx.deps.config.store.replicas });
  const stored = await store.rollback(rev);
  return { rolledBackTo: rev, revision: stored.revision };
}
