import { defineError, ErrorCodes, type ErrorDetail, type MusterError } from "./muster-error.ts";

// One catalogue of errors shared by coordinator, agent and CLI, so an operator sees the same code
// wherever a failure surfaces and scripts can branch on it. Each code has one HTTP status
// (muster-error.ts); each error is a class whose message is built here, so a throw site names what
// went wrong, never how to word it: `throw new NodeNotFound(name)`. Every class is a MusterError with
// `.code`, `.status`, `.details` and a stable `.name`. Messages are exactly what callers have always
// seen (tests and scripts match them).
export * from "./muster-error.ts";

const field = (path: string, message: string) => ({
  message: `${path}: ${message}`,
  details: [{ path, message }],
});
const summary = (details: readonly ErrorDetail[]) => details.map((d) => `${d.path}: ${d.message}`).join("; ");

// Input
/** A value that fails its schema; every bad field is named. */
export const InvalidInput = defineError(
  "InvalidInput",
  "VALIDATION_FAILED",
  (what: string, details: ErrorDetail[]) => ({ message: `Invalid ${what}: ${summary(details)}`, details }),
);
/** A request body that fails its schema, caught by the HTTP error handler. */
export const InvalidRequest = defineError(
  "InvalidRequest",
  "VALIDATION_FAILED",
  (details: ErrorDetail[]) => ({
    message: "Invalid input",
    details,
  }),
);
/** One named field with a reason (`path: reason`). */
export const InvalidField = defineError("InvalidField", "VALIDATION_FAILED", field);
export const InvalidYaml = defineError(
  "InvalidYaml",
  "VALIDATION_FAILED",
  (what: string, reason: string) => ({
    message: `${what} is not valid YAML: ${reason}`,
    details: [{ path: "(root)", message: reason }],
  }),
);
export const InvalidJson = defineError("InvalidJson", "VALIDATION_FAILED", (reason: string) => ({
  message: `Body is not valid JSON: ${reason}`,
  details: [{ path: "(root)", message: "not valid JSON" }],
}));
export const EmptyJsonBody = defineError(
  "EmptyJsonBody",
  "VALIDATION_FAILED",
  () => "Body is empty but Content-Type is JSON",
);
export const ContentLengthMismatch = defineError(
  "ContentLengthMismatch",
  "VALIDATION_FAILED",
  () => "Content-Length does not match the body",
);
export const BodyTooLarge = defineError(
  "BodyTooLarge",
  "BODY_TOO_LARGE",
  () => ErrorCodes.BODY_TOO_LARGE.message,
);
export const UnsupportedMediaType = defineError(
  "UnsupportedMediaType",
  "UNSUPPORTED_MEDIA_TYPE",
  () => "Body must be JSON (Content-Type: application/json)",
);
export const ConfigFileUnreadable = defineError(
  "ConfigFileUnreadable",
  "VALIDATION_FAILED",
  (path: string, why: string) => `cannot read ${path}: ${why}`,
);

// HTTP surface
export const NoSuchEndpoint = defineError(
  "NoSuchEndpoint",
  "NOT_FOUND",
  (method: string, path: string) => `No such endpoint: ${method} ${path.slice(0, 200)}`,
);
export const WebSocketUpgradeRequired = defineError(
  "WebSocketUpgradeRequired",
  "VALIDATION_FAILED",
  (path: string) => `${path} is the agents' WebSocket endpoint; send an upgrade request`,
);
export const AdminTokenMissing = defineError(
  "AdminTokenMissing",
  "UNAUTHORIZED",
  () => "Missing credentials: send Authorization: Bearer <admin token>",
);
export const AdminTokenInvalid = defineError(
  "AdminTokenInvalid",
  "UNAUTHORIZED",
  () => "Invalid admin token",
);
export const MetricsTokenInvalid = defineError(
  "MetricsTokenInvalid",
  "UNAUTHORIZED",
  () => "Invalid token: /metrics takes the admin token or the metrics token (<state-dir>/metrics-token)",
);

/** GET /readyz while the coordinator is starting or draining. */
export const CoordinatorNotReady = defineError("CoordinatorNotReady", "UNAVAILABLE", (closing: boolean) =>
  closing ? "shutting down" : "not listening yet",
);
export const ConsoleNotBuilt = defineError(
  "ConsoleNotBuilt",
  "UNAVAILABLE",
  () => "The web console is not built: run npm run build (it writes dist/console), then reload",
);
export const ConsoleAssetNotFound = defineError(
  "ConsoleAssetNotFound",
  "NOT_FOUND",
  (file: string) => `No console asset named ${file.slice(0, 100)}`,
);

// Delivery (bootstrap script, agent bundles)
export const BootstrapScriptUnavailable = defineError(
  "BootstrapScriptUnavailable",
  "UNAVAILABLE",
  () => "agent bundle not built; run npm run build",
);
export const AgentBundleMissing = defineError(
  "AgentBundleMissing",
  "UNAVAILABLE",
  (dir: string) => `No agent bundle in ${dir}: run npm run build on the coordinator`,
);
export const ArtifactNotFound = defineError(
  "ArtifactNotFound",
  "NOT_FOUND",
  (file: string) => `No artifact named ${file.slice(0, 100)}`,
);
export const ArtifactMissing = defineError(
  "ArtifactMissing",
  "NOT_FOUND",
  (file: string) => `Artifact ${file} is listed but missing; rebuild it`,
);

// Join tokens: messages name what is wrong, never the secret
export const JoinTokenInvalid = defineError(
  "JoinTokenInvalid",
  "UNAUTHORIZED",
  () => "join token is not valid",
);
export const JoinTokenRevoked = defineError(
  "JoinTokenRevoked",
  "UNAUTHORIZED",
  (id: string) => `join token ${id} was revoked; create a new one`,
);
export const JoinTokenExpired = defineError(
  "JoinTokenExpired",
  "UNAUTHORIZED",
  (id: string, expiresAt: string) => `join token ${id} expired at ${expiresAt}; create a new one`,
);
export const JoinTokenNotFound = defineError(
  "JoinTokenNotFound",
  "NOT_FOUND",
  (id: string) => `join token ${id} does not exist`,
);

// Nodes: enrolment, credentials, retry
export const NodeNotFound = defineError(
  "NodeNotFound",
  "NOT_FOUND",
  (name: string) => `node ${name} does not exist`,
);
export const NodeNameTaken = defineError("NodeNameTaken", "CONFLICT", (name: string) => ({
  message: `node name ${name} is already used by another machine`,
  details: [{ path: "nodeName", message: "already used by another machine" }],
}));
/** A machine enrolled under one role is never re-enrolled under another by a join token. */
export const RoleConflict = defineError(
  "RoleConflict",
  "CONFLICT",
  (known: { role: string; name: string }, role: string) =>
    `this machine is already enrolled as ${known.role} ${known.name}; ${role === "agent" ? "an" : "a"} ${role} join token cannot re-enrol it`,
);
export const NodeCredentialInvalid = defineError(
  "NodeCredentialInvalid",
  "UNAUTHORIZED",
  () => "node credential is not valid",
);
export const NodeCredentialWrongMachine = defineError(
  "NodeCredentialWrongMachine",
  "UNAUTHORIZED",
  (node: string) => `the credential for ${node} was presented by a different machine`,
);
export const NodePendingApproval = defineError(
  "NodePendingApproval",
  "PENDING_APPROVAL",
  (node: string) =>
    `node ${node} is enrolled from another machine; this machine waits in pending-approval until the operator runs \`muster nodes approve ${node}\` (or enrols it with a --replace join token)`,
);
export const NothingToApprove = defineError(
  "NothingToApprove",
  "CONFLICT",
  (node: string) => `no machine is waiting to take over node ${node}`,
);
export const JoinTokenUsedUp = defineError(
  "JoinTokenUsedUp",
  "UNAUTHORIZED",
  (id: string, uses: number) => `join token ${id} was already used ${uses} time(s), its limit`,
);
export const NodeNotRetryable = defineError(
  "NodeNotRetryable",
  "CONFLICT",
  (name: string, state: string) =>
    `node ${name} is ${state}; only failed or check-failed nodes can be retried`,
);

// Control-plane operations
/** A server join or an operation holds the control-plane lease (`value`: the node or operation id). */
export const OperationNotFound = defineError(
  "OperationNotFound",
  "NOT_FOUND",
  (id: string) => `operation ${id} does not exist`,
);
export const OperationInFlight = defineError(
  "OperationInFlight",
  "OPERATION_IN_FLIGHT",
  (holder: string, since: string, value: string) => ({
    message: `the control-plane lease is held: ${holder} (since ${since}); one join, removal, upgrade or restore at a time`,
    details: [{ path: "lease", message: `${holder} since ${since}`, value }],
  }),
);

/** Invariant 10: removing `node` would lose etcd quorum, or etcd has none now (the numbers in details). */
export const QuorumGuard = defineError(
  "QuorumGuard",
  "QUORUM_GUARD",
  (p: { reason: string; healthyNow: number; healthyAfter: number; quorum: number }) => ({
    message: `Refused: ${p.reason}`,
    details: [
      { path: "healthyNow", message: `${p.healthyNow} healthy etcd members now`, value: p.healthyNow },
      { path: "healthyAfter", message: `${p.healthyAfter} healthy after the removal`, value: p.healthyAfter },
      { path: "quorum", message: `quorum is ${p.quorum}`, value: p.quorum },
    ],
  }),
);
/** A removal the node's state forbids (already removed, unreachable without --force, the last server). */
export const NodeNotRemovable = defineError(
  "NodeNotRemovable",
  "CONFLICT",
  (name: string, why: string) => `node ${name} cannot be removed: ${why}`,
);

// Backups
/** An on-demand snapshot needs a joined server whose agent is connected. */
export const NoServerForSnapshot = defineError(
  "NoServerForSnapshot",
  "CONFLICT",
  () => "no joined server has a connected agent to take the snapshot; see muster nodes",
);
/** A restore names a snapshot no joined server lists (muster backups shows them). */
export const SnapshotNotFound = defineError(
  "SnapshotNotFound",
  "NOT_FOUND",
  (name: string) => `no joined server lists snapshot ${name}; see muster backups`,
);
/**
 * A restore of a local snapshot held by a server other than the init server: the init server's
 * config has no `server:`, so wiped and started it would form a new cluster instead of rejoining.
 */
export const SnapshotNotOnInitServer = defineError(
  "SnapshotNotOnInitServer",
  "CONFLICT",
  (name: string, holder: string, init: string) =>
    `snapshot ${name} is on ${holder}, not on the init server ${init} (it has no server: to rejoin through); restore a snapshot ${init} holds or one in S3; see muster backups`,
);
/** POST /v1/upgrades refused by the version rules (rke2-version.ts): the message names both versions. */
export const UpgradeRefused = defineError("UpgradeRefused", "VALIDATION_FAILED", (why: string) => why);
/** POST /v1/agent-token/migration on a cluster whose servers already carry agent-token. */
export const NotLegacy = defineError(
  "NotLegacy",
  "NOT_LEGACY",
  () =>
    "the cluster already uses the agent token (agents hold only the agent credential): nothing to migrate",
);
/** An upgrade needs the cluster's current RKE2 version: the spec's, or what every joined server reports. */
export const ClusterVersionUnknown = defineError(
  "ClusterVersionUnknown",
  "CONFLICT",
  (seen: string) => `the cluster's RKE2 version is not known (${seen}); set rke2.version in the spec`,
);

// kubeconfig
/** The admin kubeconfig is read on a joined server whose agent is connected. */
export const NoServerForKubeconfig = defineError(
  "NoServerForKubeconfig",
  "CONFLICT",
  () => "no joined server has a connected agent to read the admin kubeconfig from; see muster nodes",
);
/** Every server asked for the admin kubeconfig failed (the reasons, never the content). */
export const KubeconfigUnavailable = defineError(
  "KubeconfigUnavailable",
  "UNAVAILABLE",
  (reasons: string) => `could not read the admin kubeconfig on any server: ${reasons}`,
);

// Cluster spec
/** A spec change the cluster's present state forbids (the field is named). */
export const SpecConflict = defineError("SpecConflict", "CONFLICT", field);
/** `serve --config` with a spec the stored state forbids: the reason, and the fields it names. */
export const ConfigConflictsWithState = defineError(
  "ConfigConflictsWithState",
  "CONFLICT",
  (err: MusterError) => ({
    message: `the config file conflicts with the cluster's stored state: ${err.message}`,
    details: err.details,
  }),
);
