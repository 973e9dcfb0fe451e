import type { MusterEvent, NodeView } from "@muster/shared";
import { useEffect, useMemo, useState } from "preact/hooks";
import { formatDuration } from "../model/format.ts";
import { joinBars, layoutTimeline, offsetLabel, type PlacedBar } from "../model/timeline.ts";

// The join sequence: one row per plan release, bars placed on one time axis in SVG (percent
// coordinates: no inline styles, which the page's CSP forbids). The clock ticks locally while a join
// runs so its bar grows; nothing is fetched for that.
export function JoinTimeline(props: { joinEvents: MusterEvent[]; nodes: NodeView[] }) {
  const roles = useMemo(
    () => new Map(props.nodes.map((n) => [n.name, { role: n.role, init: n.init }])),
    [props.nodes],
  );
  const bars = useMemo(() => joinBars(props.joinEvents, (n) => roles.get(n)), [props.joinEvents, roles]);
  const running = bars.some((b) => b.outcome === "running");
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    setNow(Date.now());
    if (!running) return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [running, bars]);
  const layout = layoutTimeline(bars, now);

  return (
    <section class="card" aria-labelledby="timeline-title">
      <h2 id="timeline-title">Join sequence</h2>
      <p class="muted small">
        Each bar runs from the node's plan release to its result. Servers join one at a time (etcd takes one
        learner at a time), so their bars never overlap; agents join alongside.
      </p>
      {layout.overlaps.length > 0 && (
        <p class="form-error" role="alert">
          Server joins overlapped: {layout.overlaps.map(([a, b]) => `${a.node} and ${b.node}`).join("; ")}.
          This should never happen; check the coordinator log.
        </p>
      )}
      {bars.length === 0 ? (
        <p class="muted">No join has started yet.</p>
      ) : (
        <ol class="timeline" aria-label="Joins in order">
          {layout.bars.map((b) => (
            <TimelineRow key={`${b.node}#${b.attempt}`} bar={b} />
          ))}
          <li class="timeline-axis" aria-hidden="true">
            <span />
            <svg class="track" role="presentation">
              {layout.ticks.map((t) => (
                <text
                  key={t.label}
                  x={`${t.left}%`}
                  y="12"
                  text-anchor={t.left > 95 ? "end" : t.left < 5 ? "start" : "middle"}
                >
                  {t.label}
                </text>
              ))}
            </svg>
            <span />
          </li>
        </ol>
      )}
    </section>
  );
}

const OUTCOME_WORDS: Record<PlacedBar["outcome"], string> = {
  running: "joining",
  succeeded: "ready",
  failed: "failed",
  interrupted: "interrupted",
};

function TimelineRow(props: { bar: PlacedBar }) {
  const b = props.bar;
  const span = `${offsetLabel(b.from)} → ${b.outcome === "running" ? "now" : offsetLabel(b.to)}`;
  const label = `${b.role} ${b.node}${b.attempt > 1 ? ` (attempt ${b.attempt})` : ""}: ${OUTCOME_WORDS[b.outcome]}, ${span}, ${formatDuration(b.to - b.from)}`;
  return (
    <li
      class={`timeline-row role-${b.role}`}
      data-node={b.node}
      data-role={b.role}
      data-outcome={b.outcome}
      data-start={b.start}
      data-end={b.end ?? ""}
    >
      <span class="timeline-name">
        {b.node}
        {b.init && <span class="muted small"> init</span>}
        {b.attempt > 1 && <span class="muted small"> #{b.attempt}</span>}
      </span>
      <svg class="track" role="img" aria-label={label}>
        <title>{label}</title>
        <rect
          class={`bar outcome-${b.outcome}`}
          x={`${b.left}%`}
          y="3"
          width={`${Math.max(b.width, 0.4)}%`}
          height="14"
          rx="3"
        />
      </svg>
      <span class="timeline-took small">{formatDuration(b.to - b.from)}</span>
    </li>
  );
}
