import type { AgentLink } from "../../service.ts";
import { prepare } from "./checks.ts";
import type { TransitionDeps } from "./deps.ts";
import { currentPlan } from "./joins.ts";
import { recoverIfLost } from "./loss.ts";

// A node's agent connecting (first time or again) and leaving, and what a coordinator restart
// leaves behind. Relaxed (store/db.ts): after a restart every node is disconnected anyway.

/**
 * The node's agent is connected on `link` (an older link is closed, REPLACED). A checks request
 * sent on an earlier link may be lost, so a checking node is asked again; a waiting node is asked
 * to pre-stage again; a joining node gets its plan again (its plan.done may have been lost; it
 * skips work already done).
 */
export function attach(
  d: TransitionDeps,
  name: string,
  link: AgentLink,
  appliedChecksum: string | null,
): void {
  const { store, log } = d;
  d.links.attach(name, link);
  const node = store.tx(() => {
    const n = store.nodes.summary(name);
    if (!n) return null;
    const recheck = n.state === "checking";
    store.nodes.update(name, {
      connected: true,
      lastSeen: d.now(),
      ...(recheck ? { state: "enrolled", checksRequestId: null } : {}),
    });
    store.events.append("node.connected", name, `${name} connected`);
    recoverIfLost(d, name);
    return n;
  }, "relaxed");
  if (!node) {
    d.links.detach(name, link);
    return;
  }
  log.info({ node: name, state: node.state, appliedChecksum }, "agent attached");
  if (node.state === "waiting") prepare(d, name);
  if (node.state === "joining") {
    // After the commit: the release may still be in an open group (store/db.ts).
    try {
      const record = store.nodes.get(name);
      const p = record && currentPlan(d, record);
      if (p) store.afterCommit(() => d.links.send(name, { type: "plan.apply", plan: p }));
    } catch (err) {
      log.error({ node: name, err: (err as Error).message }, "cannot re-send the plan");
    }
  }
  d.changes.notify();
}

/** The node's agent left. A replaced link closing late changes nothing: the node has a newer one. */
export function detach(d: TransitionDeps, name: string, link: AgentLink): void {
  const { store } = d;
  if (!d.links.detach(name, link)) return;
  const lastSeen = d.links.takeHeartbeat(name) ?? d.now();
  store.tx(() => {
    if (!store.nodes.summary(name)) return;
    store.nodes.update(name, { connected: false, lastSeen });
    store.events.append("node.disconnected", name, `${name} disconnected`);
    store.afterCommit(() => d.log.info({ node: name }, "agent detached"));
  }, "relaxed");
  d.changes.notify();
}

/** Repairs what a restart leaves behind: no link survives it. The lease survives on purpose. */
export function recoverAfterRestart(d: TransitionDeps): void {
  const { store } = d;
  store.tx(() => {
    store.nodes.markAllDisconnected();
    const lease = store.lease.get();
    const holder = lease ? store.nodes.summary(lease.node) : null;
    if (lease && holder?.state !== "joining") {
      // Cannot happen through the transitions (lease and state change together); never keep a
      // lease nobody can end.
      d.log.warn(
        { node: lease.node, state: holder?.state },
        "releasing a join lease held by a node that is not joining",
      );
      store.lease.release(lease.node);
    }
  });
}
