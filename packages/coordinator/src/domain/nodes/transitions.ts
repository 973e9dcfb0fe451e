import { randomUUID } from "node:crypto";
import type { CheckResult, ClusterSpec, NodePlan } from "@muster/shared";
import type { NodeSummary } from "../../store/node-summaries.ts";
import { type Ctx, iso, sendTo } from "../context.ts";
import { registrationAddress } from "../planner/planner.ts";
import { buildPlan, installSpecFor, planForStorage, planFromStorage, serviceFor } from "./plan-builder.ts";

// Every node state change, each in one transaction with its event (and the lease, for servers).
// Frames to agents go out only after the commit (store.afterCommit: a planning pass applies all its
// actions in one transaction, and a join's result shares its fsync with the other results of the
// same turn of the event loop, store/db.ts), so an agent never acts on a change that was lost.

/**
 * The most peers one checks.run names: every server, then agents in enrolment order. Up to 257 nodes
 * that is every other node. Beyond, a full list would make checks.run frames O(N) and their bytes
 * O(N^2) across an enrolling fleet (at 10,000 nodes about 0.7 GB through TLS, and the coordinator's
 * memory ballooning with buffered frames), and have each agent ARP-probe thousands of hosts; the
 * servers (etcd peers, kube-vip) plus a fixed sample of agents still find a node cut off its L2.
 */
export const PEERS_LIMIT = 256;

/** What every checks.run of one planning pass shares, worked out once per pass. */
export interface PassChecksContext {
  /** Other nodes' addresses: every server first, then agents, at most PEERS_LIMIT. */
  peers(name: string): string[];
  vipInUse: boolean;
}

type PeerNode = Pick<NodeSummary, "name" | "role" | "state" | "init" | "address">;

export function checksContext(spec: ClusterSpec, nodes: readonly PeerNode[]): PassChecksContext {
  const registration = registrationAddress(spec, nodes.find((n) => n.init) ?? null);
  const clusterUp = nodes.some((n) => n.role === "server" && n.state === "joined");
  // Every server, then the earliest agents: PEERS_LIMIT + 1 candidates, so one can be the node itself.
  const servers: PeerNode[] = [];
  const agents: PeerNode[] = [];
  for (const n of nodes)
    if (n.role === "server") servers.push(n);
    else if (agents.length <= PEERS_LIMIT) agents.push(n);
  const candidates = servers.concat(agents).slice(0, PEERS_LIMIT + 1);
  return {
    vipInUse: clusterUp && spec.vip !== undefined && registration === spec.vip.address,
    peers: (name) =>
      candidates
        .filter((n) => n.name !== name)
        .slice(0, PEERS_LIMIT)
        .map((n) => n.address),
  };
}

/** Relaxed (db.ts): a reconnecting agent is asked again, and a lost request only goes unanswered. */
export function requestChecks(
  ctx: Ctx,
  name: string,
  shared = checksContext(ctx.spec(), ctx.store.nodes.summaries()),
): void {
  const { store } = ctx;
  const requestId = randomUUID();
  store.tx(() => {
    const node = store.nodes.summary(name);
    if (node?.state !== "enrolled") return;
    store.nodes.update(name, {
      state: "checking",
      checksRequestId: requestId,
      stateSince: ctx.now(),
      message: null,
    });
    const spec = ctx.spec();
    store.afterCommit(() => {
      ctx.logger.info({ node: name }, "checks requested");
      sendTo(ctx, name, {
        type: "checks.run",
        requestId,
        role: node.role,
        minimums: spec.checks[node.role],
        ignore: spec.checks.ignore,
        ...(spec.vip ? { vip: spec.vip } : {}),
        peers: shared.peers(name),
        vipInUse: shared.vipInUse,
      });
    });
  }, "relaxed");
}

/** Relaxed (db.ts): lost, the node is checking again after a restart and is asked again. */
export function recordChecks(ctx: Ctx, node: Pick<NodeSummary, "name">, results: CheckResult[]): void {
  const failing = results.filter((c) => c.status === "fail");
  const names = failing.map((c) => c.name);
  ctx.store.tx(() => {
    ctx.store.nodes.update(node.name, {
      state: failing.length > 0 ? "check-failed" : "waiting",
      checks: results,
      checksRequestId: null,
      message: failing.length > 0 ? `check-failed: ${names.join(", ")}` : null,
      stateSince: ctx.now(),
    });
    if (failing.length > 0) {
      const detail = failing
        .map((c) => `${c.name}: ${c.message}${c.fix ? ` (fix: ${c.fix})` : ""}`)
        .join("; ");
      ctx.store.events.append("node.checks.failed", node.name, `checks failed on ${node.name}: ${detail}`);
    } else {
      const warned = results.filter((c) => c.status === "warn").map((c) => c.name);
      const note = warned.length > 0 ? ` (warnings: ${warned.join(", ")})` : "";
      ctx.store.events.append("node.checks.passed", node.name, `checks passed on ${node.name}${note}`);
    }
  }, "relaxed");
  if (failing.length > 0) ctx.logger.warn({ node: node.name, failing: names }, "node failed its checks");
  else {
    ctx.logger.info({ node: node.name }, "node passed its checks");
    sendPrepare(ctx, node.name);
  }
  ctx.schedule();
}

/**
 * Asks a waiting node to install RKE2 now. The installer starts nothing, so this is safe before the
 * join lease; it takes the install (in air-gap, hundreds of MB of images) off the serial join path.
 */
export function sendPrepare(ctx: Ctx, name: string): void {
  const node = ctx.store.nodes.summary(name);
  if (node?.state !== "waiting") return;
  const install = installSpecFor(ctx.spec(), node.role);
  sendTo(ctx, name, { type: "install.prepare", install, service: serviceFor(node.role) });
}

export function releasePlan(ctx: Ctx, name: string, init: boolean): void {
  const { store } = ctx;
  const spec = ctx.spec();
  const node = store.nodes.summary(name);
  if (node?.state !== "waiting") return;
  const token = ctx.vault.token();
  const registration = init ? null : registrationAddress(spec, store.nodes.initNode());
  const plan = buildPlan({ spec, node, init, token, registrationAddress: registration });
  const now = ctx.now();
  store.tx(() => {
    // Taking the lease first: if another server holds it, this throws and nothing is released.
    if (node.role === "server") store.lease.take(name, now);
    store.nodes.update(name, {
      state: "joining",
      init: init || node.init,
      planChecksum: plan.checksum,
      plan: planForStorage(plan),
      releasedAt: now,
      stateSince: now,
      attempts: node.attempts + 1,
      message: null,
      phase: null,
    });
    const what = init ? "init server (initialises the cluster)" : node.role;
    store.events.append("node.join.started", name, `plan released to ${what} ${name}`);
    store.afterCommit(() => {
      ctx.logger.info({ node: name, role: node.role, init, checksum: plan.checksum }, "plan released");
      sendTo(ctx, name, { type: "plan.apply", plan });
    });
  });
}

/** The node's current plan, rebuilt from storage (the token re-inserted), or null if it has none. */
export function currentPlan(ctx: Ctx, node: { plan: string | null }): NodePlan | null {
  return node.plan === null ? null : planFromStorage(node.plan, ctx.vault.token());
}

export function failJoin(ctx: Ctx, name: string, reason: string): void {
  const { store } = ctx;
  store.tx(() => {
    const n = store.nodes.summary(name);
    if (n?.state !== "joining") return;
    store.nodes.update(name, { state: "failed", message: reason, stateSince: ctx.now() });
    store.lease.release(name);
    store.events.append("node.join.failed", name, `${n.role} ${name} failed to join: ${reason}`);
    store.afterCommit(() => {
      ctx.logger.warn({ node: name, role: n.role, reason }, "join failed");
      ctx.schedule();
    });
  }, "grouped");
}

export function succeedJoin(ctx: Ctx, name: string): void {
  const { store } = ctx;
  const now = ctx.now();
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
      ctx.logger.info({ node: name, role: n.role }, "node joined");
      ctx.schedule();
    });
  }, "grouped");
}
