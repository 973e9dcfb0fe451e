import { NodeNotFound, NodeNotRetryable, type NodePlan } from "@muster/shared";
import { registrationAddress } from "../../planner/planner.ts";
import { iso } from "../../time.ts";
import { buildPlan, planForStorage, planFromStorage } from "../plan-builder.ts";
import type { TransitionDeps } from "./deps.ts";

// waiting -> joining (plan released, the lease for a server) -> joined or failed; failed or
// check-failed -> enrolled again on retry. A release and a join's end commit with the lease, so two
// servers are never in flight (docs/architecture.md, invariant 2).

/** Only a planning pass calls it (it does not notify); `init`: this server initialises the cluster. */
export function releasePlan(d: TransitionDeps, name: string, init: boolean): void {
  const { store } = d;
  const spec = d.spec();
  const node = store.nodes.summary(name);
  if (node?.state !== "waiting") return;
  const token = d.vault.token();
  const agentToken = d.planAgentToken();
  const registration = init ? null : registrationAddress(spec, store.nodes.initNode());
  const plan = buildPlan({
    spec,
    node,
    init,
    token,
    registrationAddress: registration,
    agentToken,
    ...(d.imageSha256 ? { imageSha256: d.imageSha256 } : {}),
  });
  const now = d.now();
  store.tx(() => {
    // Taking the lease first: if another server holds it, this throws and nothing is released.
    if (node.role === "server") store.lease.take(name, now);
    store.nodes.update(name, {
      state: "joining",
      init: init || node.init,
      planChecksum: plan.checksum,
      plan: planForStorage(plan, agentToken),
      releasedAt: now,
      stateSince: now,
      attempts: node.attempts + 1,
      message: null,
      phase: null,
    });
    const what = init ? "init server (initialises the cluster)" : node.role;
    store.events.append("node.join.started", name, `plan released to ${what} ${name}`);
    store.afterCommit(() => {
      d.log.info({ node: name, role: node.role, init, checksum: plan.checksum }, "plan released");
      d.links.send(name, { type: "plan.apply", plan });
    });
  });
}

/** The node's current plan, rebuilt from storage (the tokens re-inserted), or null if it has none. */
export function currentPlan(
  d: Pick<TransitionDeps, "vault">,
  node: { plan: string | null },
): NodePlan | null {
  return node.plan === null ? null : planFromStorage(node.plan, d.vault.token(), d.vault.agentToken());
}

/**
 * A phase the joining node reports. Progress alone is relaxed (db.ts: the agent reports its phases
 * again when it reconnects); a failed phase fails the join in the same, durable, transaction.
 * `detail` is already scrubbed of the token.
 */
export function reportPhase(
  d: TransitionDeps,
  name: string,
  phase: string,
  status: string,
  detail: string | null,
): void {
  const { store } = d;
  const failed = status === "failed";
  store.tx(
    () => {
      store.nodes.update(name, { phase: `${phase} ${status}`, message: detail });
      store.events.append("node.phase", name, `${name}: ${phase} ${status}${detail ? `: ${detail}` : ""}`);
      if (failed) failJoin(d, name, `phase ${phase} failed${detail ? `: ${detail}` : ""}`);
    },
    failed ? "full" : "relaxed",
  );
}

export function failJoin(d: TransitionDeps, name: string, reason: string): void {
  const { store } = d;
  store.tx(() => {
    const n = store.nodes.summary(name);
    if (n?.state !== "joining") return;
    store.nodes.update(name, { state: "failed", message: reason, stateSince: d.now() });
    store.lease.release(name);
    store.events.append("node.join.failed", name, `${n.role} ${name} failed to join: ${reason}`);
    store.afterCommit(() => {
      d.log.warn({ node: name, role: n.role, reason }, "join failed");
      d.changes.notify();
    });
  }, "grouped");
}

export function succeedJoin(d: TransitionDeps, name: string): void {
  const { store } = d;
  const now = d.now();
  store.tx(() => {
    const n = store.nodes.summary(name);
    if (n?.state !== "joining") return;
    store.nodes.update(name, { state: "joined", joinedAt: now, stateSince: now, message: null });
    store.lease.release(name);
    const took = n.releasedAt === null ? "" : ` in ${Math.round((now - n.releasedAt) / 1000)}s`;
    store.events.append(
      "node.join.succeeded",
      name,
      `${n.role} ${name} joined${took} (released ${iso(n.releasedAt ?? now)})`,
    );
    store.afterCommit(() => {
      d.log.info({ node: name, role: n.role }, "node joined");
      d.changes.notify();
    });
  }, "grouped");
}

/** The operator's `muster retry`: a failed or check-failed node starts over from its checks. */
export function retry(d: TransitionDeps, name: string): void {
  const { store } = d;
  store.tx(() => {
    const node = store.nodes.summary(name);
    if (!node) throw new NodeNotFound(name);
    if (node.state !== "failed" && node.state !== "check-failed")
      throw new NodeNotRetryable(name, node.state);
    store.nodes.update(name, {
      state: "enrolled",
      message: null,
      phase: null,
      checks: null,
      checksRequestId: null,
      stateSince: d.now(),
    });
    const was = node.message ? ` (was ${node.state}: ${node.message})` : ` (was ${node.state})`;
    store.events.append("node.retry", name, `retry of ${node.role} ${name} requested${was}`);
    store.afterCommit(() => {
      d.log.info({ node: name, was: node.state }, "node retry requested");
      d.changes.notify();
    });
  });
}
