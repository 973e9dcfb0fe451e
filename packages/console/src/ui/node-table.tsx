import type { NodeView, PlanStep } from "@muster/shared";
import { nodeState, sortNodes, waitReasons, whyItWaits } from "../model/format.ts";
import { type NodeAction, nodeActions } from "../model/node-actions.ts";
import type { WhatIfView } from "../model/whatif.ts";
import { Badge } from "./badge.tsx";

export function NodeTable(props: {
  nodes: NodeView[];
  steps: PlanStep[];
  loaded: boolean;
  /** The coordinator's what-if: the remove confirmation shows the quorum guard's verdict from it. */
  whatif?: WhatIfView | null | undefined;
  onAction(node: NodeView, action: NodeAction): void;
}) {
  const reasons = waitReasons(props.steps);
  const nodes = sortNodes(props.nodes);
  return (
    <section class="card" aria-labelledby="nodes-title">
      <h2 id="nodes-title">Nodes</h2>
      {props.loaded && nodes.length === 0 ? (
        <p class="muted">No node has enrolled yet. Use “Add node” to get the command for the first server.</p>
      ) : (
        // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must be reachable by keyboard.
        <section class="table-wrap" tabIndex={0} aria-label="Nodes table">
          <table class="nodes">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Role</th>
                <th scope="col">State</th>
                <th scope="col">Address</th>
                <th scope="col">Connected</th>
                <th scope="col">Why it waits</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {nodes.map((n) => {
                const state = nodeState(n.state);
                const actions = nodeActions(n, props.whatif);
                return (
                  <tr key={n.name} data-node={n.name}>
                    <th scope="row">{n.name}</th>
                    <td>
                      {n.role}
                      {n.init && <span class="muted small"> (init)</span>}
                    </td>
                    <td>
                      <Badge tone={state.tone} label={state.label} />
                      {n.phase && n.state === "joining" && <span class="muted small"> {n.phase}</span>}
                    </td>
                    <td>
                      <code>{n.address}</code>
                    </td>
                    <td>{n.connected ? "yes" : <span class="tone-text-bad">no</span>}</td>
                    <td class="why">{whyItWaits(n, reasons)}</td>
                    <td class="actions">
                      {actions.map((a) => (
                        <button
                          key={a.id}
                          type="button"
                          class={a.danger ? "danger small" : "small"}
                          aria-label={`${a.label} ${n.name}`}
                          onClick={() => props.onAction(n, a)}
                        >
                          {a.label}
                        </button>
                      ))}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </section>
      )}
    </section>
  );
}
