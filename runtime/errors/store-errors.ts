// The event store (JetStream streams and buckets): missing, differing from its config, not durable enough, or refusing a write.
import { ErrorCode, JetbusError } from "./base.ts";

export class StoreConflictError extends JetbusError {
  override name = "StoreConflictError";
  constructor(
    readonly setting: string,
    message: string,
  ) {
    super(ErrorCode.StoreConflict, `${setting}: ${message}`);
  }
}

/** A one-shot command (or a direct actor) found no store to use: only `jetbus store apply`, `up` or `router` create it. */
export class StoreMissingError extends JetbusError {
  override name = "StoreMissingError";
  constructor(
    readonly stream: string,
    /** Who needed it, when that is not the command itself: `actor "x" has delivery "direct": ...`. */
    why?: string,
  ) {
    super(ErrorCode.StoreMissing, `${why ? `${why}: ` : ""}stream ${stream} does not exist on this server`);
  }
}

/**
 * An actor's durables on JETBUS_INBOX could not be brought to the layout its settings need
 * (unordered, or N ordered partitions): the user may not change them, or a consumer jetbus does
 * not own overlaps them. The hint names the fix; nothing waiting in the inbox is lost either way.
 */
export class InboxLayoutError extends JetbusError {
  override name = "InboxLayoutError";
  constructor(
    readonly actor: string,
    message: string,
    hint: string,
    cause?: unknown,
  ) {
    super(ErrorCode.InboxLayout, `actor "${actor}": ${message}`, { cause, hint });
  }
}

/** `jetbus store apply` refused a change that would delete stored data because --allow-data-loss was not given. */
export class DataLossError extends JetbusError {
  override name = "DataLossError";
  constructor(readonly losses: readonly { stream: string; setting: string; loss: string }[]) {
    super(
      ErrorCode.DataLoss,
      [
        `refused: ${losses.length === 1 ? "this change deletes" : "these changes delete"} stored data (nothing was changed):`,
        ...losses.map((l) => `  ${l.stream} ${l.setting}: ${l.loss}`),
      ].join("\n"),
    );
  }
}

/** `--strict` start-up check: streams or buckets that would not survive a node loss, or a store that differs from its config. */
export class DurabilityError extends JetbusError {
  override name = "DurabilityError";
  constructor(readonly findings: readonly { subject: string; problem: string }[]) {
    super(
      ErrorCode.Durability,
      [
        `durability check failed (${findings.length} finding${findings.length === 1 ? "" : "s"}):`,
        ...findings.map((f) => `  ${f.subject}: ${f.problem}`),
      ].join("\n"),
    );
  }
}

export class PublishError extends JetbusError {
  override name = "PublishError";
  constructor(message: string, opts: { cause?: unknown; retryable?: boolean } = {}) {
    super(ErrorCode.PublishFailed, message, opts);
  }
}
