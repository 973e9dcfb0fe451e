import type {
  AgentFrame,
  BackupList,
  ClusterSpec,
  ClusterSpecInput,
  ClusterView,
  CoordinatorFrame,
  CreateBackupBody,
  CreateJoinTokenBody,
  CreateRestoreBody,
  CreateUpgradeBody,
  EnrolFrame,
  EventsPage,
  HelloFrame,
  JoinTokenInfo,
  KubeconfigView,
  NodeView,
  OperationAccepted,
  OperationView,
  PlanView,
  publicSpec,
  WhatIfView,
} from "@muster/shared";
import type { WaitOutcome } from "./events/event-waiters.ts";

// The seam between the coordinator's domain (store, planner, sequencer, vault, tokens) and its
// transports (REST routes, the agent WebSocket hub): the one interface they call, and they import
// nothing else of the domain. Transports validate input with zod, then call this; the domain throws
// an error of the shared catalogue (a MusterError) for every expected failure.

/** One live agent connection, as the domain sees it. */
export interface AgentLink {
  send(frame: CoordinatorFrame): void;
  close(code: number, reason: string): void;
}

export interface JoinTokenIssued {
  id: string;
  /** The full `<id>.<secret>` token: returned once, never stored in clear. */
  token: string;
  role: "server" | "agent";
  expiresAt: string;
  maxUses?: number;
  replace?: boolean;
}

/** The control-plane lease as observability sees it; `since` in ms since the epoch. */
export interface LeaseView {
  kind: "server-join" | "operation";
  node: string | null;
  operationId?: string;
  since: number;
}

export interface CoordinatorService {
  // --- agent channel -------------------------------------------------------------------------
  /** First contact: checks the join token (role, expiry, revocation), enrols or re-maps the machine. */
  enrol(
    frame: EnrolFrame,
    remoteAddress: string,
    /** "grouped": durable only once `durable()` resolves (the agent channel waits for it). */
    durability?: "full" | "grouped",
  ): { node: string; credential: string; pendingApproval?: string };
  /**
   * Resolves once every change made so far is durable (an enrolment is grouped with the others of
   * its turn into one fsync): the channel sends a credential only after this.
   */
  durable(): Promise<void>;
  /** Later contacts: the node's own credential, valid only for that node. */
  authenticate(frame: HelloFrame): { node: string };
  /** Marks the node connected; an older link for the same node is closed (REPLACED). */
  attach(node: string, link: AgentLink, appliedChecksum: string | null): void;
  detach(node: string, link: AgentLink): void;
  /** checks.result, phase, plan.done, token.captured, heartbeat from an authenticated node. */
  handleFrame(node: string, frame: AgentFrame): void;

  // --- REST ----------------------------------------------------------------------------------
  getCluster(): ClusterView;
  getSpec(): ReturnType<typeof publicSpec>;
  updateSpec(input: ClusterSpecInput): ReturnType<typeof publicSpec>;
  listNodes(): NodeView[];
  getNode(name: string): NodeView;
  retryNode(name: string): NodeView;
  /** Lets the machine waiting to take over `name` do so (docs/architecture.md#invariant-11). */
  approveNode(name: string): NodeView;
  getPlan(): PlanView;
  /** For each etcd voting server: would losing it now keep quorum, and the tolerance left. */
  getWhatIf(): WhatIfView;
  listEvents(after: number, limit: number): EventsPage;
  /**
   * Resolves once an event newer than `after` is in the log (at once if there is one), after `ms`,
   * when `signal` aborts (the client went away) or when the coordinator closes; never rejects.
   * The long-poll of GET /v1/events: the caller then reads the page with listEvents.
   */
  waitForEvents(after: number, ms: number, signal?: AbortSignal): Promise<WaitOutcome>;
  /**
   * Starts removing a node (docs/reference.md#removing-a-node): NOT_FOUND, CONFLICT (already removed,
   * unreachable without `force`, the last server), OPERATION_IN_FLIGHT or QUORUM_GUARD.
   */
  /** Asks etcd (through a healthy server) for its members' health first: it can take seconds. */
  removeNode(name: string, force: boolean, requestedBy?: string): Promise<OperationAccepted>;
  /** An on-demand etcd snapshot on one joined, connected server: a backup operation. */
  startBackup(body: CreateBackupBody, requestedBy?: string): OperationAccepted;
  /** The snapshots every joined server lists (local and S3). */
  listBackups(): Promise<BackupList>;
  /**
   * Restores etcd from a listed snapshot (docs/operations.md#restore-etcd-from-a-snapshot): a
   * restore operation under the control-plane lease. NOT_FOUND for a snapshot no server lists,
   * OPERATION_IN_FLIGHT while the lease is held.
   */
  startRestore(body: CreateRestoreBody, requestedBy?: string): Promise<OperationAccepted>;
  /**
   * A rolling RKE2 upgrade (docs/reference.md#upgrades): an upgrade operation under the
   * control-plane lease. VALIDATION_FAILED naming both versions for a downgrade or a >1 minor skip.
   */
  startUpgrade(body: CreateUpgradeBody, requestedBy?: string): OperationAccepted;
  /**
   * The agent-token migration of a legacy cluster (docs/operations.md#agent-token-migration): an
   * agent-token operation under the control-plane lease. NOT_LEGACY when it already uses the agent token.
   */
  startAgentTokenMigration(requestedBy?: string): OperationAccepted;
  /** The admin kubeconfig read on a joined server, its server the registration address (a secret). */
  getKubeconfig(): Promise<KubeconfigView>;
  /** Long-running operations, newest first. */
  listOperations(): OperationView[];
  /** One operation; NOT_FOUND when there is none with that id. */
  getOperation(id: string): OperationView;
  createJoinToken(body: CreateJoinTokenBody): JoinTokenIssued;
  listJoinTokens(): JoinTokenInfo[];
  /**
   * Checks a join token without using it up (the bootstrap calls this before it changes anything,
   * so a wrong or expired token stops it cleanly). Throws UNAUTHORIZED with a clear reason, or
   * CONFLICT when `machineId` belongs to a node enrolled under the other role.
   */
  verifyJoinToken(
    token: string,
    machineId?: string,
  ): { id: string; role: "server" | "agent"; expiresAt: string; replace?: boolean };
  revokeJoinToken(id: string): void;

  // --- observability (transport/http/metrics.ts, audit.ts) ------------------------------------
  /** Who holds the control-plane lease now (a server join or an operation), or null. */
  getLease(): LeaseView | null;
  /** Appends an `admin.action` event: what an admin call did and from where, never a secret. */
  recordAdminAction(message: string, node?: string): void;

  // --- lifecycle -----------------------------------------------------------------------------
  /** Starts timers (sequencing, timeouts, registration probe). */
  start(): void;
  /** Stops timers and closes the store; safe to call twice. */
  close(): Promise<void>;
}

export type { ClusterSpec };
