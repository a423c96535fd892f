export { checkDurability, isJetbusStream, FindingKind, type DurabilityFinding, type DurabilityOptions } from "./durability.ts";
export {
  check,
  formatCheck,
  STORE_TARGET,
  type AckedRecord,
  type StoredRecord,
  type SeenRecord,
  type CheckInput,
  type CheckResult,
  type Target,
  type Counts,
} from "./checker.ts";
export { parseJsonl, readAcked, readSeen, readStored } from "./checker-input.ts";
export { storedRecords } from "./store-records.ts";
export {
  roleUsers,
  renderAccountsConf,
  actorDurables,
  inboxPrefixFor,
  passwordVarFor,
  JetbusAccount,
  Roles,
  Users,
  type Role,
  type RoleUser,
  type ActorShape,
} from "./permissions.ts";
export {
  clusterUp,
  clusterDown,
  readState,
  renderLocalNodeConfig,
  defaultPorts,
  restartNode,
  passwordVarsIn,
  DEFAULT_LOCAL_DIR,
  type LocalClusterState,
  type NodePorts,
} from "./local.ts";
export { provisionStreams } from "./provision.ts";
