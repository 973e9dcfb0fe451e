import type { MusterEvent, Role } from "@muster/shared";

// The join sequence as bars on one time axis: each node's plan release (`node.join.started`) to its
// result (`node.join.succeeded` when it passed the readiness gate, or `node.join.failed`). Server bars
// must never overlap (etcd takes one learner at a time; the coordinator holds a lease); overlaps are
// reported so the page can say so instead of hiding a broken invariant.

export type BarOutcome = "running" | "succeeded" | "failed" | "interrupted";

export interface JoinBar {
  node: string;
  role: Role;
  init: boolean;
  /** 1 for the first plan release of this node, 2 after a retry, ... */
  attempt: number;
  start: number;
  /** null while the join runs. */
  end: number | null;
  outcome: BarOutcome;
}

/** Role (and init) of a node the page knows; events of nodes it does not know fall back to their words. */
export type RoleOf = (node: string) => { role: Role; init: boolean } | undefined;

const JOIN_TYPES = new Set(["node.join.started", "node.join.succeeded", "node.join.failed"]);

export function isJoinEvent(e: MusterEvent): boolean {
  return JOIN_TYPES.has(e.type) && e.node !== undefined;
}

/** "plan released to init server (...) a", "plan released to server b", "plan released to agent c". */
function roleFromMessage(message: string): { role: Role; init: boolean } {
  if (/\binit server\b/.test(message)) return { role: "server", init: true };
  return { role: /\bto server\b|^server\b/.test(message) ? "server" : "agent", init: false };
}

/** Bars in order of their start; events may come in any order (they are sorted by seq). */
export function joinBars(events: readonly MusterEvent[], roleOf: RoleOf): JoinBar[] {
  const bars: JoinBar[] = [];
  const open = new Map<string, JoinBar>();
  const attempts = new Map<string, number>();
  const sorted = events.filter(isJoinEvent).sort((a, b) => a.seq - b.seq);
  for (const e of sorted) {
    const node = e.node as string;
    const at = Date.parse(e.time);
    if (Number.isNaN(at)) continue;
    const running = open.get(node);
    if (e.type === "node.join.started") {
      if (running) {
        // A second release without a result (cannot happen today): show the first as cut short.
        running.end = at;
        running.outcome = "interrupted";
      }
      const attempt = (attempts.get(node) ?? 0) + 1;
      attempts.set(node, attempt);
      const bar: JoinBar = {
        node,
        ...(roleOf(node) ?? roleFromMessage(e.message)),
        attempt,
        start: at,
        end: null,
        outcome: "running",
      };
      bars.push(bar);
      open.set(node, bar);
    } else if (running) {
      running.end = at;
      running.outcome = e.type === "node.join.succeeded" ? "succeeded" : "failed";
      open.delete(node);
    }
  }
  return bars.sort((a, b) => a.start - b.start);
}

/** Pairs of server bars that overlap in time (a running bar lasts until `now`). */
export function serverOverlaps(bars: readonly JoinBar[], now: number): Array<[JoinBar, JoinBar]> {
  const servers = bars.filter((b) => b.role === "server").sort((a, b) => a.start - b.start);
  const out: Array<[JoinBar, JoinBar]> = [];
  for (let i = 0; i < servers.length; i++) {
    const a = servers[i]!;
    const aEnd = a.end ?? now;
    for (let j = i + 1; j < servers.length && servers[j]!.start < aEnd; j++) out.push([a, servers[j]!]);
  }
  return out;
}

export interface PlacedBar extends JoinBar {
  /** Percent of the axis, 0..100. */
  left: number;
  width: number;
  /** ms from the axis start to the bar's start and end (end: now while running). */
  from: number;
  to: number;
}

export interface Tick {
  left: number;
  label: string;
}

export interface TimelineLayout {
  start: number;
  end: number;
  bars: PlacedBar[];
  ticks: Tick[];
  overlaps: Array<[JoinBar, JoinBar]>;
}

const STEPS_S = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 21600, 43200, 86400];

/** "+0s", "+45s", "+2m", "+1m30s", "+1h", "+1h15m". */
export function offsetLabel(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `+${s}s`;
  if (s < 3600) return `+${Math.floor(s / 60)}m${s % 60 ? `${s % 60}s` : ""}`;
  const m = Math.round((s % 3600) / 60);
  return `+${Math.floor(s / 3600)}h${m ? `${m}m` : ""}`;
}

/** Places the bars (servers first, then agents, each in start order) on one axis with round ticks. */
export function layoutTimeline(bars: readonly JoinBar[], now: number, maxTicks = 6): TimelineLayout {
  if (bars.length === 0) return { start: now, end: now, bars: [], ticks: [], overlaps: [] };
  const start = Math.min(...bars.map((b) => b.start));
  const end = Math.max(start + 1000, ...bars.map((b) => b.end ?? Math.max(now, b.start)));
  const span = end - start;
  const pct = (ms: number) => Math.min(100, Math.max(0, (ms / span) * 100));
  const ordered = [...bars].sort(
    (a, b) => (a.role === b.role ? a.start - b.start : a.role === "server" ? -1 : 1) || a.attempt - b.attempt,
  );
  const placed = ordered.map((b): PlacedBar => {
    const from = b.start - start;
    const to = (b.end ?? Math.max(now, b.start)) - start;
    return { ...b, from, to, left: pct(from), width: pct(to) - pct(from) };
  });
  const stepS = STEPS_S.find((s) => span / (s * 1000) <= maxTicks) ?? STEPS_S.at(-1)!;
  const ticks: Tick[] = [];
  for (let t = 0; t <= span; t += stepS * 1000) ticks.push({ left: pct(t), label: offsetLabel(t) });
  return { start, end, bars: placed, ticks, overlaps: serverOverlaps(bars, now) };
}
