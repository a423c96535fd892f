import { JetStreamApiError } from "@nats-io/jetstream";
import { errors, RequestError } from "@nats-io/transport-node";
import { JetbusError } from "../errors.ts";

/**
 * What a NATS failure means, decided by the error's class and the JetStream API error code
 * (`err_code` in the server's errors.json), never by its message text: texts change between
 * server versions, codes do not. The client wraps errors (a JetStreamNotEnabled around a
 * RequestError around a NoRespondersError, a PublishError of ours around the server's API
 * error), so every test looks down the `cause` chain.
 * test/integration/nats-errors.int.test.ts provokes each kind on a real server and checks it here.
 */
export const ApiCode = {
  ClusterIncomplete: 10004,
  ClusterNoPeers: 10005,
  SystemUnavailable: 10008,
  ClusterNotLeader: 10009,
  ConsumerNameInUse: 10013,
  ConsumerNotFound: 10014,
  /** "filtered consumer not unique on workqueue stream": two consumers of a work queue may not share a subject. */
  ConsumerFilterOverlap: 10100,
  InsufficientResources: 10023,
  MemoryResourcesExceeded: 10028,
  NoMessageFound: 10037,
  StorageResourcesExceeded: 10047,
  StreamInvalidConfig: 10052,
  StreamNameInUse: 10058,
  StreamNotFound: 10059,
  ReplicasNotUpdatable: 10061,
  WrongLastSequence: 10071,
  ReplicasNotSupported: 10074,
  PeerRemap: 10075,
  StreamOffline: 10118,
  ConsumerOffline: 10119,
  ConsumerAlreadyExists: 10148,
  /** 409 "duplicate message id is in process": a resend whose first copy the stream leader is still proposing. */
  DuplicateMessageInProcess: 10158,
  LastSequencePerSubjectNotReady: 10163,
  WrongLastSequenceConstant: 10164,
  TooManyRequests: 10167,
  StreamOfflineReason: 10194,
  ConsumerOfflineReason: 10195,
} as const;
export type ApiCode = (typeof ApiCode)[keyof typeof ApiCode];

/** Codes a cluster answers while it elects a leader, moves or restarts a replica: asking again later may succeed. */
const TRANSIENT_CODES: ReadonlySet<number> = new Set([
  ApiCode.ClusterIncomplete,
  ApiCode.SystemUnavailable,
  ApiCode.ClusterNotLeader,
  ApiCode.InsufficientResources,
  ApiCode.PeerRemap,
  ApiCode.StreamOffline,
  ApiCode.ConsumerOffline,
  ApiCode.StreamOfflineReason,
  ApiCode.ConsumerOfflineReason,
  ApiCode.LastSequencePerSubjectNotReady,
  ApiCode.TooManyRequests,
  ApiCode.DuplicateMessageInProcess,
]);
const NOT_FOUND_CODES: ReadonlySet<number> = new Set([ApiCode.StreamNotFound, ApiCode.ConsumerNotFound, ApiCode.NoMessageFound]);
const EXISTS_CODES: ReadonlySet<number> = new Set([ApiCode.StreamNameInUse, ApiCode.ConsumerNameInUse, ApiCode.ConsumerAlreadyExists]);
const WRONG_LAST_CODES: ReadonlySet<number> = new Set([ApiCode.WrongLastSequence, ApiCode.WrongLastSequenceConstant]);
const REPLICA_CODES: ReadonlySet<number> = new Set([ApiCode.ReplicasNotSupported, ApiCode.ReplicasNotUpdatable, ApiCode.ClusterNoPeers]);
const RESOURCE_CODES: ReadonlySet<number> = new Set([
  ApiCode.InsufficientResources,
  ApiCode.StorageResourcesExceeded,
  ApiCode.MemoryResourcesExceeded,
]);

/** The error and its causes, outermost first (bounded: a cause cycle must not hang a classifier). */
function* chain(err: unknown): Generator<unknown> {
  let e: unknown = err;
  for (let depth = 0; e !== undefined && e !== null && depth < 8; depth++) {
    yield e;
    e = (e as { cause?: unknown }).cause;
  }
}

/** The JetStream API error code (`err_code`) anywhere in the chain, or undefined. */
export function apiCodeOf(err: unknown): number | undefined {
  for (const e of chain(err)) if (e instanceof JetStreamApiError) return e.code;
  return undefined;
}

const hasCode = (err: unknown, codes: ReadonlySet<number>): boolean => {
  const code = apiCodeOf(err);
  return code !== undefined && codes.has(code);
};

/** The server said the stream, consumer or message does not exist. A timeout says nothing about existence. */
export function isNotFound(err: unknown): boolean {
  return hasCode(err, NOT_FOUND_CODES);
}

/** A stream or consumer of that name exists already (another process created it first, or with other settings). */
export function isAlreadyExists(err: unknown): boolean {
  return hasCode(err, EXISTS_CODES);
}

/** A compare-and-set write (expected last sequence, KV update/create) lost to another writer. */
export function isWrongLastSequence(err: unknown): boolean {
  return hasCode(err, WRONG_LAST_CODES);
}

/** The server refused the replica count (not clustered, not changeable, or no peers to place it on). */
export function isReplicaRefusal(err: unknown): boolean {
  return hasCode(err, REPLICA_CODES);
}

/** The server has no room for the stream (storage, memory, or placement resources). */
export function isResourceRefusal(err: unknown): boolean {
  return hasCode(err, RESOURCE_CODES);
}

/** No peers to place an asset on: a cluster whose meta leader does not know every node yet. */
export function isNoPeers(err: unknown): boolean {
  return apiCodeOf(err) === ApiCode.ClusterNoPeers;
}

/**
 * A batched direct get found nothing from its start on: the server answers with the status 404,
 * not an API error. The client throws a JetStreamStatusError, a class its public surface does not
 * export, so it is known by name and status code.
 */
export function isNothingFromHere(err: unknown): boolean {
  const e = err as { name?: unknown; code?: unknown } | null;
  return e?.name === "JetStreamStatusError" && e.code === 404;
}

/** This user may not do it (publish/subscribe permissions, or authorization). Waiting will not help. */
export function isPermission(err: unknown): boolean {
  for (const e of chain(err)) {
    if (
      e instanceof errors.PermissionViolationError ||
      e instanceof errors.AuthorizationError ||
      e instanceof errors.UserAuthenticationExpiredError
    )
      return true;
  }
  return false;
}

/**
 * True for what a cluster gives while it elects a leader or a node restarts: a request timeout,
 * no responders on a JetStream API subject (the v3 client reports it as "jetstream is not
 * enabled"), a dropped connection, or one of the API codes above. Our own errors say it
 * themselves (`retryable`). A closed or draining connection, a permission refusal and every
 * other API error are final.
 */
export function isTransient(err: unknown): boolean {
  if (isPermission(err)) return false;
  for (const e of chain(err)) {
    if (e instanceof JetbusError) return e.retryable;
    if (e instanceof errors.TimeoutError || e instanceof errors.NoRespondersError || e instanceof errors.ConnectionError) return true;
    if (e instanceof errors.ClosedConnectionError || e instanceof errors.DrainingConnectionError) return false;
    if (e instanceof JetStreamApiError) return TRANSIENT_CODES.has(e.code);
    // a RequestError without a cause is the connection dropping under it ("connection disconnected")
    if (e instanceof RequestError && (e as { cause?: unknown }).cause === undefined) return true;
  }
  return false;
}
