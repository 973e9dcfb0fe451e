import * as z from "zod";
import { CheckResultSchema } from "./checks.ts";
import { NodeFactsSchema } from "./facts.ts";
import { JOIN_TOKEN_PATTERN } from "./join-token.ts";
import { InstallSpecSchema, NodePlanSchema, PhaseNameSchema } from "./plan.ts";
import { TaskSchema } from "./tasks.ts";

// Frames on the /v1/agent WebSocket: strict objects, a discriminated union on `type` per direction.
// Anything else is refused with a close reason, never half-handled.
export const MAX_FRAME_BYTES = 1024 * 1024;

const checksum = z.string().regex(/^[0-9a-f]{64}$/);
const nodeName = z.string().min(1).max(63);

export const EnrolFrameSchema = z.strictObject({
  type: z.literal("enrol"),
  joinToken: z.string().regex(JOIN_TOKEN_PATTERN, "must be a join token <6>.<16>"),
  facts: NodeFactsSchema,
  /** Operator overrides from the bootstrap (--node-name, --address). */
  nodeName: nodeName.optional(),
  address: z.string().max(64).optional(),
  agentVersion: z.string().max(64),
});

export const HelloFrameSchema = z.strictObject({
  type: z.literal("hello"),
  node: nodeName,
  credential: z.string().min(16).max(256),
  facts: NodeFactsSchema,
  agentVersion: z.string().max(64),
  /** Checksum of the last plan the agent fully applied, so a reconnect does not re-run it. */
  appliedChecksum: checksum.nullable(),
});

export const ChecksResultFrameSchema = z.strictObject({
  type: z.literal("checks.result"),
  requestId: z.string().min(1).max(64),
  results: z.array(CheckResultSchema).max(256),
});

export const PhaseFrameSchema = z.strictObject({
  type: z.literal("phase"),
  checksum,
  phase: PhaseNameSchema,
  status: z.enum(["started", "succeeded", "skipped", "failed"]),
  message: z.string().max(4000).optional(),
});

export const PlanDoneFrameSchema = z.strictObject({
  type: z.literal("plan.done"),
  checksum,
  ok: z.boolean(),
  message: z.string().max(4000).optional(),
  /** The RKE2 release the node runs after the plan (`rke2 --version`), when it could tell. */
  rke2Version: z.string().max(64).optional(),
});

export const TokenCapturedFrameSchema = z.strictObject({
  type: z.literal("token.captured"),
  checksum,
  token: z.string().min(1).max(512),
});

export const HeartbeatFrameSchema = z.strictObject({ type: z.literal("heartbeat") });

/** Outcome of a pre-staged install (install.prepare). Failure is reported, not fatal: the plan's
 * own install phase runs the installer again and fails the join properly if it still fails. */
export const InstallPreparedFrameSchema = z.strictObject({
  type: z.literal("install.prepared"),
  ok: z.boolean(),
  message: z.string().max(4000),
});

const taskId = z.string().regex(/^[A-Za-z0-9_-]{8,64}$/, "must be a task id");

/** The outcome of a task.run. `result` is checked against the task kind's schema (tasks.ts). */
export const TaskResultFrameSchema = z.strictObject({
  type: z.literal("task.result"),
  id: taskId,
  ok: z.boolean(),
  result: z.unknown().optional(),
  message: z.string().max(4000).optional(),
});

/** A line of progress of a long task (a drain, an install), shown in the operation's step. */
export const TaskProgressFrameSchema = z.strictObject({
  type: z.literal("task.progress"),
  id: taskId,
  message: z.string().max(1000),
});

export const AgentFrameSchema = z.discriminatedUnion("type", [
  EnrolFrameSchema,
  HelloFrameSchema,
  ChecksResultFrameSchema,
  PhaseFrameSchema,
  PlanDoneFrameSchema,
  TokenCapturedFrameSchema,
  HeartbeatFrameSchema,
  InstallPreparedFrameSchema,
  TaskResultFrameSchema,
  TaskProgressFrameSchema,
]);
export type AgentFrame = z.output<typeof AgentFrameSchema>;

export const WelcomeFrameSchema = z.strictObject({
  type: z.literal("welcome"),
  node: nodeName,
  /** Present only right after enrolment: the node's own credential, shown once. */
  credential: z.string().min(16).max(256).optional(),
  heartbeatSeconds: z.number().int().min(1).max(3600),
});

/** One cell of the reachability matrix: a peer's port this node must reach (peers-ports check). */
export const ReachTargetSchema = z.strictObject({
  node: z.string().max(253),
  address: z.string().max(64),
  port: z.number().int().min(1).max(65535),
  protocol: z.enum(["tcp", "udp"]),
  /** The peer holds muster's temporary listeners: a UDP target must echo. */
  responder: z.boolean(),
  /** A port only some setups need (etcd metrics): a failure is a warning. */
  optional: z.boolean().optional(),
});
export type ReachTarget = z.infer<typeof ReachTargetSchema>;

export const ChecksRunFrameSchema = z.strictObject({
  type: z.literal("checks.run"),
  requestId: z.string().min(1).max(64),
  role: z.enum(["server", "agent"]),
  minimums: z.strictObject({ cpus: z.number(), memoryGiB: z.number(), diskGiB: z.number() }),
  ignore: z.array(z.string().max(64)).max(64),
  vip: z.strictObject({ address: z.string().max(64), interface: z.string().max(64) }).optional(),
  /** Other nodes' addresses, for the ARP reachability check. */
  peers: z.array(z.string().max(64)).max(10000),
  /** The cluster already answers on the VIP, so the VIP-free check must not fail. */
  vipInUse: z.boolean(),
  /**
   * MACs of the cluster's servers (on the VIP interface): once the cluster holds the VIP, vip-free
   * passes while only these answer for it and fails naming any other MAC. Absent: vipInUse alone.
   */
  vipOwners: z
    .array(z.string().regex(/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/, "must be a MAC address"))
    .max(64)
    .optional(),
  /** The node each vipOwners MAC belongs to (lower-case MAC -> node name), so vip-free names the holder. */
  vipOwnerNames: z
    .record(
      z.string().regex(/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/, "must be a lower-case MAC address"),
      z.string().max(253),
    )
    .optional(),
  /**
   * The reachability matrix from this node: the peers' ports it must reach (peers-ports check).
   * `responder`: the peer holds muster's temporary listeners (it passed its checks and has not
   * installed yet), so a UDP target must echo; otherwise RKE2's own listeners answer (TCP only).
   */
  reachability: z.array(ReachTargetSchema).max(4096).optional(),
});

/**
 * Install RKE2 now, ahead of this node's turn: the installer never enables or starts anything, so
 * nodes waiting for the join lease can pre-stage it in parallel and only the join itself is serial.
 */
export const InstallPrepareFrameSchema = z.strictObject({
  type: z.literal("install.prepare"),
  install: InstallSpecSchema,
  service: z.enum(["rke2-server", "rke2-agent"]),
});

export const PlanApplyFrameSchema = z.strictObject({ type: z.literal("plan.apply"), plan: NodePlanSchema });

/** Day-two work on the node (tasks.ts); answered by task.result with the same id. */
export const TaskRunFrameSchema = z.strictObject({
  type: z.literal("task.run"),
  id: taskId,
  task: TaskSchema,
});

export const ErrorFrameSchema = z.strictObject({
  type: z.literal("error"),
  code: z.string().max(64),
  message: z.string().max(4000),
});

export const CoordinatorFrameSchema = z.discriminatedUnion("type", [
  WelcomeFrameSchema,
  ChecksRunFrameSchema,
  PlanApplyFrameSchema,
  InstallPrepareFrameSchema,
  TaskRunFrameSchema,
  ErrorFrameSchema,
]);
export type CoordinatorFrame = z.output<typeof CoordinatorFrameSchema>;

export type EnrolFrame = z.output<typeof EnrolFrameSchema>;
export type HelloFrame = z.output<typeof HelloFrameSchema>;
export type ChecksRunFrame = z.output<typeof ChecksRunFrameSchema>;
export type PlanApplyFrame = z.output<typeof PlanApplyFrameSchema>;
export type PhaseFrame = z.output<typeof PhaseFrameSchema>;
export type InstallPrepareFrame = z.output<typeof InstallPrepareFrameSchema>;
export type TaskRunFrame = z.output<typeof TaskRunFrameSchema>;
export type TaskResultFrame = z.output<typeof TaskResultFrameSchema>;

/** WebSocket close codes muster uses (4000-4999 is the application range). */
export const CloseCodes = {
  BAD_FRAME: 4400,
  UNAUTHORIZED: 4401,
  FORBIDDEN: 4403,
  CONFLICT: 4409,
  REPLACED: 4410,
  HEARTBEAT_TIMEOUT: 4408,
  /** Enrolled as a known node identity, waiting for the operator's approval (the agent retries). */
  PENDING_APPROVAL: 4423,
  /** Too many connections not yet authenticated: retry later. */
  TRY_LATER: 4429,
  SHUTDOWN: 1001,
} as const;
