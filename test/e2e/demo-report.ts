// Pure parts of the demo: the timeline from the coordinator's events, the critical-path lower bound,
// and the summary object docs/reference.md fixes for `npm run demo -- --json`.

import type { SimDurations } from "@muster/lab/cluster/test-cluster";
import type { MusterEvent, NodeView } from "@muster/shared";

export interface Join {
  node: string;
  start: string;
  end: string | null;
}

/** Each server's join window, from `node.join.started` (plan released) to `node.join.succeeded`. */
export function serverJoins(events: readonly MusterEvent[], nodes: readonly NodeView[]): Join[] {
  const servers = new Set(nodes.filter((n) => n.role === "server").map((n) => n.name));
  const joins: Join[] = [];
  for (const e of events) {
    if (!e.node || !servers.has(e.node)) continue;
    if (e.type === "node.join.started") joins.push({ node: e.node, start: e.time, end: null });
    else if (e.type === "node.join.succeeded" || e.type === "node.join.failed") {
      const open = joins.findLast((j) => j.node === e.node && j.end === null);
      if (open) open.end = e.time;
    }
  }
  return joins;
}

/**
 * The critical path with zero coordination overhead, given the simulator's durations: the init
 * server, then every further server in series (etcd admits one learner at a time); agents overlap
 * with the server joins, so they lengthen the path only if one agent outlasts all of them.
 */
export function lowerBoundSeconds(d: SimDurations, servers: number, agents: number): number {
  if (servers === 0) return 0;
  const serverPath = d.initSeconds + (servers - 1) * d.joinSeconds;
  const agentPath = agents > 0 ? d.initSeconds + d.agentSeconds : 0;
  return Math.max(serverPath, agentPath);
}

/** Where the wall time beyond the lower bound went, in seconds (each rounded to 0.1). */
export interface OverheadSplit {
  /** From the demo's start to the init server's plan release (bootstraps, enrolment, checks). */
  beforeInitRelease: number;
  /** Between one server's join ending and the next server's plan release, summed. */
  joinGaps: number;
  /** Server joins beyond the simulator's duration for them (init: initSeconds, others: joinSeconds), summed. */
  joinExcess: number;
  /** From the last server join's end to the end of the wall time (agents still joining). */
  tail: number;
}

/**
 * `overheadSeconds` = wall - lower bound, and its split. The split explains the server path; when an
 * agent is the critical path the parts need not add up to the total.
 */
export function overheadOf(
  joins: readonly Join[],
  t0: number,
  wallSeconds: number,
  lowerBound: number,
  d: SimDurations,
): { overheadSeconds: number; overheadSplit: OverheadSplit } {
  const r = (v: number) => Math.round(v * 10) / 10;
  const ended = joins
    .filter((j): j is Join & { end: string } => j.end !== null)
    .sort((a, b) => Date.parse(a.start) - Date.parse(b.start));
  const end = t0 + wallSeconds * 1000;
  const first = ended[0];
  let joinGaps = 0;
  let joinExcess = 0;
  ended.forEach((j, i) => {
    const start = Date.parse(j.start);
    const stop = Date.parse(j.end);
    const expected = (i === 0 ? d.initSeconds : d.joinSeconds) * 1000;
    joinExcess += Math.max(0, stop - start - expected);
    const prev = ended[i - 1];
    if (prev) joinGaps += Math.max(0, start - Date.parse(prev.end));
  });
  const last = ended.at(-1);
  return {
    overheadSeconds: r(wallSeconds - lowerBound),
    overheadSplit: {
      beforeInitRelease: r(first ? (Date.parse(first.start) - t0) / 1000 : wallSeconds),
      joinGaps: r(joinGaps / 1000),
      joinExcess: r(joinExcess / 1000),
      tail: r(last ? Math.max(0, end - Date.parse(last.end)) / 1000 : 0),
    },
  };
}

export interface DemoSummary {
  ok: boolean;
  servers: number;
  agents: number;
  etcdMembers: { name: string; isLearner: boolean }[];
  nodesReady: number;
  serverJoins: Join[];
  wallSeconds: number;
  lowerBoundSeconds: number;
  /** wallSeconds - lowerBoundSeconds: the coordination overhead. */
  overheadSeconds: number;
  overheadSplit: OverheadSplit;
  /** Pairs of server joins that overlapped ("a / b"); any makes `ok` false. */
  overlaps: string[];
  /** How joiners registered: a VIP muster runs (kube-vip) or the init server's IP. */
  registration: { mode: "vip" | "node" | "lb"; address: string };
  /** --failover: the VIP holder's rke2-server stopped after formation. */
  failover?: { from: string; to: string; seconds: number; apiReachable: boolean };
}

/**
 * Pairs of server joins whose windows overlap (a join still open overlaps every later one): what
 * "one server at a time" forbids. Empty when the servers joined strictly in turn.
 */
export function overlappingServerJoins(joins: readonly Join[]): string[] {
  const sorted = [...joins].sort((a, b) => Date.parse(a.start) - Date.parse(b.start));
  const out: string[] = [];
  for (let i = 0; i < sorted.length; i++)
    for (let j = i + 1; j < sorted.length; j++) {
      const a = sorted[i]!;
      const b = sorted[j]!;
      if (a.end === null || Date.parse(b.start) < Date.parse(a.end)) out.push(`${a.node} / ${b.node}`);
    }
  return out;
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** The event's message without its node's name, which the line already shows in its own column. */
export function withoutNodeName(message: string, node: string | undefined): string {
  if (!node) return message;
  const n = escapeRe(node);
  return message
    .replace(new RegExp(`^${n}:? `), "")
    .replace(new RegExp(` on ${n}(?=[: ]|$)`), "")
    .replace(new RegExp(` ${n}(?=[: ]|$)`), "")
    .trim();
}

/** One line per event for the live view: elapsed seconds, node (once), what happened. */
export function formatEvent(e: MusterEvent, t0: number): string {
  const elapsed = ((Date.parse(e.time) - t0) / 1000).toFixed(1).padStart(6);
  return `  +${elapsed}s  ${(e.node ?? "").padEnd(10)} ${withoutNodeName(e.message, e.node)}`;
}

/**
 * One line of a node's bootstrap output (the curl-bash script's progress, or curl's own complaint)
 * for the live view, in the same columns as the events: elapsed seconds, node once, what it did. The
 * script's own `muster-bootstrap:` prefix gives way to `bootstrap:`. Any secret (the join tokens)
 * is masked should a line ever carry one: the script never prints it, this is the second lock.
 */
export function formatBootstrapLine(
  elapsedSeconds: number,
  node: string,
  line: string,
  secrets: readonly string[] = [],
): string {
  let text = line.replace(/^muster-bootstrap: /, "").trimEnd();
  for (const secret of secrets) if (secret) text = text.split(secret).join("<join token>");
  text = withoutNodeName(text, node);
  return `  +${elapsedSeconds.toFixed(1).padStart(6)}s  ${node.padEnd(10)} bootstrap: ${text}`;
}

/** Where each node is while the demo waits: its state, or `bootstrapping` before it enrolled. */
export function progressLine(
  elapsedSeconds: number,
  names: readonly string[],
  nodes: readonly NodeView[],
): string {
  const state = new Map(nodes.map((n) => [n.name, n.state as string]));
  const groups = new Map<string, string[]>();
  for (const name of names) {
    const s = state.get(name) ?? "bootstrapping";
    groups.set(s, [...(groups.get(s) ?? []), name]);
  }
  const parts = [...groups].map(([s, ns]) => `${s} ${ns.length} (${ns.join(", ")})`);
  return `  +${elapsedSeconds.toFixed(1).padStart(6)}s  ${"".padEnd(10)} waiting: ${parts.join("; ")}`;
}

export function formatSummary(s: DemoSummary, nodes: readonly NodeView[], t0: number): string {
  const lines = ["", "Summary"];
  lines.push(`  result       ${s.ok ? "ok" : "FAILED"}: ${s.nodesReady}/${s.servers + s.agents} nodes ready`);
  const voters = s.etcdMembers.filter((m) => !m.isLearner).map((m) => m.name);
  lines.push(
    `  etcd         ${voters.length} voters (${voters.join(", ")}), ${s.etcdMembers.length - voters.length} learners`,
  );
  lines.push(
    s.overlaps.length === 0
      ? "  server joins (plan released -> ready; never overlapping):"
      : `  server joins (plan released -> ready) OVERLAPPED: ${s.overlaps.join(", ")}`,
  );
  for (const j of s.serverJoins) {
    const from = ((Date.parse(j.start) - t0) / 1000).toFixed(1);
    const to = j.end ? ((Date.parse(j.end) - t0) / 1000).toFixed(1) : "…";
    lines.push(`    ${j.node.padEnd(10)} +${from}s -> +${to}s`);
  }
  lines.push("  nodes:");
  for (const n of nodes) {
    const joined = n.joinedAt
      ? `joined +${((Date.parse(n.joinedAt) - t0) / 1000).toFixed(1)}s`
      : (n.message ?? "");
    lines.push(
      `    ${n.name.padEnd(10)} ${n.role.padEnd(7)} ${n.state.padEnd(8)} ${n.address.padEnd(13)} ${joined}`,
    );
  }
  lines.push(`  registration ${s.registration.mode} ${s.registration.address}`);
  if (s.failover)
    lines.push(
      `  failover     VIP ${s.failover.from} -> ${s.failover.to} in ${s.failover.seconds.toFixed(1)} s; API through the VIP ${s.failover.apiReachable ? "answers" : "does NOT answer"}`,
    );
  const ratio = s.lowerBoundSeconds > 0 ? (s.wallSeconds / s.lowerBoundSeconds).toFixed(2) : "n/a";
  lines.push(
    `  wall         ${s.wallSeconds.toFixed(1)} s (lower bound ${s.lowerBoundSeconds.toFixed(1)} s, ratio ${ratio})`,
  );
  const o = s.overheadSplit;
  lines.push(
    `  overhead     ${s.overheadSeconds.toFixed(1)} s: ${o.beforeInitRelease.toFixed(1)} s before the init release, ` +
      `${o.joinGaps.toFixed(1)} s between server joins, ${o.joinExcess.toFixed(1)} s over the simulated join times, ${o.tail.toFixed(1)} s tail`,
  );
  return lines.join("\n");
}
