import type { ClusterView, MusterEvent, NodeView, PlanView } from "@muster/shared";

// Human output of the operator CLI: plain aligned text that reads well in a terminal and greps well.

/** The terminal's width when stdout is a terminal; undefined when piped (output then never wraps). */
export function terminalWidth(
  out: { isTTY?: boolean; columns?: number } = process.stdout,
): number | undefined {
  return out.isTTY && out.columns && out.columns > 0 ? out.columns : undefined;
}

/** A cell's text in lines of at most `width` characters: at spaces where it can, else mid-word. */
export function wrapCell(text: string, width: number): string[] {
  if (text.length <= width) return [text];
  const lines: string[] = [];
  let line = "";
  for (let word of text.split(" ")) {
    while (word.length > width) {
      const room = line ? width - line.length - 1 : width;
      if (room <= 0) {
        lines.push(line);
        line = "";
        continue;
      }
      lines.push(line ? `${line} ${word.slice(0, room)}` : word.slice(0, room));
      line = "";
      word = word.slice(room);
    }
    if (!line) line = word;
    else if (line.length + 1 + word.length <= width) line += ` ${word}`;
    else {
      lines.push(line);
      line = word;
    }
  }
  if (line) lines.push(line);
  return lines;
}

const GAP = 2;

/**
 * Left-aligned columns, two spaces apart; the last column is not padded. Given a width (the
 * terminal's; none when piped), the widest columns are narrowed until a line fits and their cells
 * wrap onto continuation lines; a header is never narrowed below its own length.
 */
export function table(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  width: number | undefined = terminalWidth(),
): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  if (width !== undefined) {
    const total = () => widths.reduce((a, b) => a + b, 0) + GAP * (widths.length - 1);
    const floor = header.map((h) => Math.max(h.length, 4));
    while (total() > width) {
      const i = widths.reduce((best, w, j) => (w - floor[j]! > widths[best]! - floor[best]! ? j : best), 0);
      const spare = widths[i]! - floor[i]!;
      if (spare <= 0) break; // cannot fit: leave it to the terminal
      // Narrow the widest column down to the next widest (or as far as needed), then look again.
      const next = Math.max(floor[i]!, ...widths.filter((_, j) => j !== i));
      widths[i] = Math.max(floor[i]!, Math.min(widths[i]! - (total() - width), next));
      if (widths[i]! === next && next > floor[i]! && total() > width) widths[i] = next - 1;
    }
  }
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join(" ".repeat(GAP))
      .trimEnd();
  const render = (cells: readonly string[]) => {
    const wrapped = header.map((_, i) => wrapCell(cells[i] ?? "", widths[i]!));
    const height = Math.max(...wrapped.map((w) => w.length));
    return Array.from({ length: height }, (_, k) => line(wrapped.map((w) => w[k] ?? ""))).join("\n");
  };
  return [line(header), ...rows.map(render)].join("\n");
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
