import type { ClusterView } from "@muster/shared";
import { clusterPhase, quorumSummary, toleranceSummary } from "../model/format.ts";
import { Badge } from "./badge.tsx";

export function ClusterSummary(props: { cluster: ClusterView | null }) {
  const c = props.cluster;
  if (c === null)
    return (
      <section class="card" aria-labelledby="cluster-title" aria-busy="true">
        <h2 id="cluster-title">Cluster</h2>
        <p class="muted">Loading…</p>
      </section>
    );
  const phase = clusterPhase(c.phase);
  return (
    <section class="card" aria-labelledby="cluster-title">
      <div class="card-head">
        <h2 id="cluster-title">Cluster</h2>
        <Badge tone={phase.tone} label={phase.label} testId="cluster-phase" />
      </div>
      <p class="muted">{phase.description}</p>
      <dl class="facts">
        <div>
          <dt>Registration address</dt>
          <dd>{c.registrationAddress ?? <span class="muted">not known yet</span>}</dd>
        </div>
        <div>
          <dt>Servers ready</dt>
          <dd data-testid="servers-ready">
            {c.servers.ready} / {c.servers.total}
          </dd>
        </div>
        <div>
          <dt>Agents ready</dt>
          <dd>
            {c.agents.ready} / {c.agents.total}
          </dd>
        </div>
        <div>
          <dt>Quorum</dt>
          <dd>{quorumSummary(c.servers)}</dd>
        </div>
        <div>
          <dt>Fault tolerance</dt>
          <dd>{toleranceSummary(c.servers)}</dd>
        </div>
        <div>
          <dt>Join in flight</dt>
          <dd>{c.joinInFlight ? c.joinInFlight.node : <span class="muted">none</span>}</dd>
        </div>
      </dl>
      {c.warnings.length > 0 && (
        <div class="warnings">
          <h3>Warnings</h3>
          <ul>
            {c.warnings.map((w) => (
              <li key={w}>{w}</li>
            ))}
          </ul>
        </div>
      )}
    </section>
  );
}
