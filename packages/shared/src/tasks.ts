import * as z from "zod";
import { InstallSpecSchema } from "./plan.ts";

// Day-two work on a node, asked by the coordinator and carried out by the node's agent: a closed set
// of typed tasks (never a command line), each with the shape of its result. The coordinator's
// operations (removal, upgrade, restore, VIP verification, audits) are built from these; the agent
// refuses anything else. A task is idempotent: the coordinator re-sends one whose result it did not
// get (after a reconnect or its own restart), under the same id, and the agent either joins the run
// still in progress or answers from the result it kept.

const nodeName = z.string().min(1).max(63);
/** etcd member ids travel as 16 hex digits (uint64 does not fit a JSON number). */
export const EtcdMemberIdSchema = z.string().regex(/^[0-9a-f]{1,16}$/, "must be an etcd member id in hex");
const ipv4ish = z.string().min(1).max(64);
const unit = z.enum(["rke2-server", "rke2-agent"]);
/** A snapshot's name as RKE2 makes it (<prefix>-<node>-<unix time>): a file name, never a path. */
export const SnapshotNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/, "must be a snapshot name (letters, digits, . _ -; no /)");
/** The --name prefix of an on-demand snapshot. */
export const SnapshotPrefixSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, "must be lowercase letters, digits and '-' (at most 63)");

export const TaskSchema = z.discriminatedUnion("kind", [
  /** etcd membership and leader as the local member sees them (servers). */
  z.strictObject({ kind: z.literal("etcd.status") }),
  /** Moves etcd leadership to `toId` (run on the current leader's node or any member). */
  z.strictObject({ kind: z.literal("etcd.move-leader"), toId: EtcdMemberIdSchema }),
  /** Removes a member directly: only for orphans with no Node behind them (else: kube.annotate remove). */
  z.strictObject({ kind: z.literal("etcd.member-remove"), id: EtcdMemberIdSchema }),
  /** Kubernetes Nodes through the local admin kubeconfig (servers). */
  z.strictObject({ kind: z.literal("kube.nodes") }),
  z.strictObject({ kind: z.literal("kube.cordon"), node: nodeName, undo: z.boolean().default(false) }),
  z.strictObject({
    kind: z.literal("kube.drain"),
    node: nodeName,
    timeoutSeconds: z.number().int().min(1).max(86400),
    /** Evict even unmanaged pods and skip waiting on an unreachable kubelet (a lost node). */
    force: z.boolean().default(false),
  }),
  z.strictObject({
    kind: z.literal("kube.annotate"),
    node: nodeName,
    key: z.string().min(1).max(253),
    value: z.string().max(1024),
  }),
  z.strictObject({ kind: z.literal("kube.delete-node"), node: nodeName }),
  /** Deletes kube-system/<node>.node-password.rke2 (a stale one blocks a rejoin under that name). */
  z.strictObject({ kind: z.literal("kube.delete-node-password"), node: nodeName }),
  /** The admin kubeconfig /etc/rancher/rke2/rke2.yaml (a secret: only to the admin, never logged). */
  z.strictObject({ kind: z.literal("kube.kubeconfig") }),
  /** systemctl stop, then (killall) rke2-killall.sh: a plain stop leaves pods such as kube-vip running. */
  z.strictObject({ kind: z.literal("rke2.stop"), unit, killall: z.boolean().default(true) }),
  z.strictObject({ kind: z.literal("rke2.start"), unit }),
  /**
   * Sets one credential key muster owns in config.yaml (0600, atomic): a server's `agent-token`, or
   * an agent's `token` (the agent-token migration). The value is a secret: never logged or stored.
   */
  z.strictObject({
    kind: z.literal("rke2.config-credential"),
    key: z.enum(["agent-token", "token"]),
    value: z.string().min(1).max(4096),
  }),
  z.strictObject({ kind: z.literal("rke2.uninstall") }),
  /** rm -rf server/db: a removed or reset member's data must go before it joins again. */
  z.strictObject({ kind: z.literal("rke2.wipe-db") }),
  /** `rke2 etcd-snapshot save [--name N]` on this server (docs/rke2-behaviour.md#snapshots-and-restore). */
  z.strictObject({ kind: z.literal("rke2.snapshot-save"), name: SnapshotPrefixSchema.optional() }),
  /** `rke2 etcd-snapshot ls`: this server's snapshots (local, and S3 when configured). */
  z.strictObject({ kind: z.literal("rke2.snapshot-list") }),
  /** `rke2 server --cluster-reset --cluster-reset-restore-path=<snapshot>` with rke2-server stopped. */
  z.strictObject({ kind: z.literal("rke2.cluster-reset"), snapshot: SnapshotNameSchema }),
  /** The official installer with these parameters (an upgrade: a new INSTALL_RKE2_VERSION). */
  z.strictObject({ kind: z.literal("rke2.install"), install: InstallSpecSchema }),
  /** Who answers ARP for the VIP as seen from this node, and whether this node holds it. */
  z.strictObject({ kind: z.literal("vip.observe"), address: ipv4ish, interface: z.string().min(1).max(15) }),
  /**
   * Deletes the VIP from the interface if this node still has it: after rke2-killall.sh SIGKILLed
   * kube-vip, the address stays and the node keeps answering ARP for it (kube-vip#1786).
   */
  z.strictObject({ kind: z.literal("vip.release"), address: ipv4ish, interface: z.string().min(1).max(15) }),
  /** TCP connects (and UDP sends) to peers: the inter-node reachability matrix. */
  z.strictObject({
    kind: z.literal("ports.probe"),
    targets: z
      .array(
        z.strictObject({
          address: ipv4ish,
          port: z.number().int().min(1).max(65535),
          protocol: z.enum(["tcp", "udp"]),
        }),
      )
      .max(4096),
    timeoutMs: z.number().int().min(100).max(30000).default(2000),
  }),
]);
export type Task = z.output<typeof TaskSchema>;
export type TaskInput = z.input<typeof TaskSchema>;
export type TaskKind = Task["kind"];
export const TASK_KINDS = TaskSchema.options.map((o) => o.shape.kind.value) as TaskKind[];

const EtcdMemberSchema = z.strictObject({
  id: EtcdMemberIdSchema,
  name: z.string().max(253),
  peerURLs: z.array(z.string().max(512)).max(16),
  clientURLs: z.array(z.string().max(512)).max(16),
  isLearner: z.boolean(),
  /** It answered and sees a leader (older agents do not say: the coordinator's view decides then). */
  healthy: z.boolean().optional(),
});
export type EtcdMember = z.output<typeof EtcdMemberSchema>;

const KubeNodeSchema = z.strictObject({
  name: z.string().max(253),
  ready: z.enum(["True", "False", "Unknown"]),
  unschedulable: z.boolean(),
  kubeletVersion: z.string().max(64),
  annotations: z.record(z.string().max(253), z.string().max(4096)),
});
export type KubeNode = z.output<typeof KubeNodeSchema>;

const empty = z.strictObject({});

export const SnapshotInfoSchema = z.strictObject({
  name: SnapshotNameSchema,
  /** file:///… on the node, or s3://bucket/… */
  location: z.string().max(2048),
  size: z.number().int().min(0),
  createdAt: z.string().max(64),
});
export type SnapshotInfo = z.output<typeof SnapshotInfoSchema>;

/** The result payload of each task kind, validated by the coordinator before anything uses it. */
export const TaskResultSchemas = {
  "etcd.status": z.strictObject({
    members: z.array(EtcdMemberSchema).max(128),
    leaderId: EtcdMemberIdSchema.nullable(),
    localId: EtcdMemberIdSchema.nullable(),
  }),
  "etcd.move-leader": empty,
  "etcd.member-remove": empty,
  "kube.nodes": z.strictObject({ nodes: z.array(KubeNodeSchema).max(100000) }),
  "kube.cordon": empty,
  "kube.drain": z.strictObject({ evicted: z.number().int().min(0) }),
  "kube.annotate": empty,
  "kube.delete-node": z.strictObject({ existed: z.boolean() }),
  "kube.delete-node-password": z.strictObject({ existed: z.boolean() }),
  "kube.kubeconfig": z.strictObject({ kubeconfig: z.string().max(1_000_000) }),
  "rke2.stop": z.strictObject({ killed: z.boolean() }),
  "rke2.start": empty,
  "rke2.config-credential": z.strictObject({ changed: z.boolean() }),
  "rke2.uninstall": z.strictObject({ wasInstalled: z.boolean() }),
  "rke2.wipe-db": z.strictObject({ existed: z.boolean() }),
  "rke2.install": z.strictObject({ version: z.string().max(64).nullable() }),
  "rke2.snapshot-save": z.strictObject({ snapshot: SnapshotInfoSchema }),
  "rke2.snapshot-list": z.strictObject({ snapshots: z.array(SnapshotInfoSchema).max(10000) }),
  "rke2.cluster-reset": z.strictObject({ message: z.string().max(1000) }),
  "vip.observe": z.strictObject({
    /** Distinct MACs that answered an ARP request for the VIP from this node. */
    macs: z.array(z.string().max(64)).max(64),
    /** This node has the VIP on the interface (it answers for it itself). */
    local: z.boolean(),
    localMac: z.string().max(64).nullable(),
  }),
  "vip.release": z.strictObject({ removed: z.boolean() }),
  "ports.probe": z.strictObject({
    results: z
      .array(
        z.strictObject({
          address: ipv4ish,
          port: z.number().int(),
          protocol: z.enum(["tcp", "udp"]),
          ok: z.boolean(),
          detail: z.string().max(500),
        }),
      )
      .max(4096),
  }),
} satisfies Record<TaskKind, z.ZodType>;

export type TaskResultOf<K extends TaskKind> = z.output<(typeof TaskResultSchemas)[K]>;

/** Task kinds whose result holds a secret: never logged, never put in an event or an operation's steps. */
export const SECRET_TASK_RESULTS: ReadonlySet<TaskKind> = new Set(["kube.kubeconfig"]);
