import type { TransitionDeps } from "./deps.ts";

// joined -> lost (agent gone and the Node not Ready past timeouts.nodeLost) -> joined again when the
// agent comes back (connections.ts). docs/reference.md#node-loss. Durable: a lost node is what the
// quorum guard and the what-if count as unhealthy.

/** Marks a joined node whose agent is still gone as lost; false when it reconnected meanwhile. */
export function markLost(d: TransitionDeps, name: string, reason: string): boolean {
  const { store } = d;
  return store.tx(() => {
    const n = store.nodes.summary(name);
    if (n?.state !== "joined" || n.connected) return false;
    store.nodes.update(name, { state: "lost", message: reason, stateSince: d.now() });
    store.events.append("node.lost", name, `${n.role} ${name} is lost: ${reason}`);
    store.afterCommit(() => {
      d.log.warn({ node: name, role: n.role, reason }, "node lost");
      d.changes.notify();
    });
    return true;
  });
}

/** A lost node's agent is back (called inside attach's transaction). */
export function recoverIfLost(d: TransitionDeps, name: string): void {
  const { store } = d;
  const n = store.nodes.summary(name);
  if (n?.state !== "lost") return;
  store.nodes.update(name, { state: "joined", message: null, stateSince: d.now() });
  store.events.append("node.recovered", name, `${n.role} ${name} is back: its agent reconnected`);
}
