import type { ClusterView, MusterEvent, NodeView, PlanView } from "@muster/shared";

// Human output of the operator CLI: plain aligned text that reads well in a terminal and greps well.

/** Left-aligned columns, two spaces apart; the last column is not padded. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)].join("\n");
}

/** "3m ago", "2h ago": how long since an ISO time, relative to now. */
export function ago(iso: string, now: number): string {
  const seconds = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (!Number.isFinite(seconds)) return iso;
  if (seconds < 60) return `${seconds}s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)}h ago`;
  return `${Math.floor(seconds / 86400)}d ago`;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

export function formatStatus(c: ClusterView, now: number): string {
  const s = c.servers;
  const lines = [
    `cluster:       ${c.name} (${c.phase})`,
    `registration:  ${c.registrationAddress ?? "(not set)"}`,
    `servers:       ${s.ready}/${s.total} ready, quorum ${s.quorum}, tolerates ${plural(s.faultTolerance, "failure")}`,
    `agents:        ${c.agents.ready}/${c.agents.total} ready`,
    `join:          ${c.joinInFlight ? `${c.joinInFlight.node} joining since ${ago(c.joinInFlight.since, now)}` : "none in flight"}`,
  ];
  if (c.warnings.length > 0) lines.push("warnings:", ...c.warnings.map((w) => `  - ${w}`));
  return lines.join("\n");
}

export function formatNodes(nodes: readonly NodeView[]): string {
  if (nodes.length === 0) return "no nodes yet: get a join command with `muster join-command --role server`";
  const rows = nodes.map((n) => [
    n.name,
    n.init ? `${n.role} (init)` : n.role,
    n.state,
    n.address,
    n.joinedAt ? n.joinedAt.replace("T", " ").slice(0, 16) : "-",
    n.claim?.state === "pending-approval" ? `pending-approval: ${n.claim.reason}` : (n.message ?? ""),
  ]);
  return table(["NAME", "ROLE", "STATE", "ADDRESS", "JOINED", "MESSAGE"], rows);
}

export function formatPlan(plan: PlanView): string {
  if (plan.steps.length === 0) return "nothing pending: no node is waiting to join";
  return plan.steps
    .map((s, i) => `${String(i + 1).padStart(2)}. ${s.node} (${s.role}) ${s.status}: ${s.reason}`)
    .join("\n");
}

export function formatEvent(e: MusterEvent): string {
  return [e.time, e.type, e.node ?? "-", e.message].join("  ");
}
