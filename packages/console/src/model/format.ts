import type { ClusterPhase, ClusterView, NodeState, NodeView, PlanStep } from "@muster/shared";

// Words and tones for what the API reports. A tone is a style hint only: every badge also says its
// state in words, so nothing depends on colour.

export type Tone = "ok" | "busy" | "wait" | "bad" | "muted";

interface Described {
  label: string;
  tone: Tone;
  /** One sentence for people. */
  description: string;
}

const NODE_STATES: Record<NodeState, Described> = {
  enrolled: { label: "enrolled", tone: "wait", description: "enrolled; checks come next" },
  checking: { label: "checking", tone: "busy", description: "running its host checks" },
  waiting: { label: "waiting", tone: "wait", description: "checks passed; waiting for its turn" },
  "check-failed": { label: "check failed", tone: "bad", description: "a host check failed" },
  joining: { label: "joining", tone: "busy", description: "plan released; installing and joining" },
  joined: { label: "joined", tone: "ok", description: "joined and ready" },
  failed: { label: "failed", tone: "bad", description: "the join failed" },
  lost: { label: "lost", tone: "bad", description: "its agent is gone and its Kubernetes node is not Ready" },
  removing: { label: "removing", tone: "busy", description: "being removed from the cluster" },
  removed: { label: "removed", tone: "muted", description: "removed; its name may be enrolled again" },
};

/** Unknown states (a newer coordinator) are shown as they are, neutral. */
export function nodeState(state: string): Described {
  return NODE_STATES[state as NodeState] ?? { label: state, tone: "muted", description: `state ${state}` };
}

const PHASES: Record<ClusterPhase, Described> = {
  empty: { label: "empty", tone: "muted", description: "no node has enrolled yet: add the first server" },
  initializing: {
    label: "initializing",
    tone: "busy",
    description: "the init server is forming the cluster",
  },
  forming: { label: "forming", tone: "busy", description: "further nodes are joining" },
  ready: { label: "ready", tone: "ok", description: "every node joined; the registration address answers" },
  degraded: {
    label: "degraded",
    tone: "bad",
    description: "a joined node is disconnected or the registration address does not answer",
  },
  blocked: { label: "blocked", tone: "bad", description: "a server failed to join: retry or remove it" },
  upgrading: { label: "upgrading", tone: "busy", description: "a rolling RKE2 upgrade is running" },
  restoring: { label: "restoring", tone: "busy", description: "etcd is being restored from a snapshot" },
};

export function clusterPhase(phase: string): Described {
  return PHASES[phase as ClusterPhase] ?? { label: phase, tone: "muted", description: `phase ${phase}` };
}

/** "2 of 3 servers": how many etcd members must agree (etcd counts only joined servers). */
export function quorumSummary(servers: ClusterView["servers"]): string {
  if (servers.ready === 0) return "no etcd member yet";
  return `${servers.quorum} of ${servers.ready} ${servers.ready === 1 ? "server" : "servers"}`;
}

/** "1 server may be lost", or why none may. */
export function toleranceSummary(servers: ClusterView["servers"]): string {
  if (servers.ready === 0) return "none yet";
  if (servers.faultTolerance === 0) return "none: losing a server loses quorum";
  return `${servers.faultTolerance} ${servers.faultTolerance === 1 ? "server" : "servers"} may be lost`;
}

/** What each node waits for, from /v1/plan (joined nodes have no step). */
export function waitReasons(steps: readonly PlanStep[]): Map<string, PlanStep> {
  return new Map(steps.map((s) => [s.node, s]));
}

/** The "why" column: the plan's reason, else the node's own message, else nothing. */
export function whyItWaits(node: NodeView, steps: ReadonlyMap<string, PlanStep>): string {
  if (node.state === "joined") return "";
  return steps.get(node.name)?.reason ?? node.message ?? "";
}

/** "0s", "45s", "3m 05s", "2h 04m". */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

/** "12:04:05" in the viewer's time zone, with the date when it is not today. */
export function formatClock(iso: string, now: number): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const time = d.toLocaleTimeString(undefined, { hour12: false });
  return new Date(now).toDateString() === d.toDateString()
    ? time
    : `${d.toLocaleDateString(undefined, { month: "short", day: "numeric" })} ${time}`;
}

/** Join token lifetimes offered by "Add node"; the coordinator accepts 60 s to 30 days. */
export const TTL_CHOICES: ReadonlyArray<{ seconds: number; label: string }> = [
  { seconds: 15 * 60, label: "15 minutes" },
  { seconds: 3600, label: "1 hour" },
  { seconds: 24 * 3600, label: "24 hours" },
  { seconds: 7 * 24 * 3600, label: "7 days" },
  { seconds: 30 * 24 * 3600, label: "30 days" },
];
export const DEFAULT_TTL_SECONDS = 24 * 3600;

/** Nodes in the order an operator reads them: servers (init first), then agents, each by name. */
export function sortNodes(nodes: readonly NodeView[]): NodeView[] {
  const rank = (n: NodeView) => (n.role === "server" ? (n.init ? 0 : 1) : 2);
  return [...nodes].sort((a, b) => rank(a) - rank(b) || a.name.localeCompare(b.name));
}
