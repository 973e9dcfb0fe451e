import { randomUUID } from "node:crypto";
import type { CheckResult, NodePlan } from "@muster/shared";
import { type Ctx, iso, sendTo } from "./context.ts";
import { buildPlan, planForStorage, planFromStorage } from "./plan-builder.ts";
import { registrationAddressOf } from "./planner.ts";
import type { NodeRecord } from "./store/nodes-repo.ts";

// Every node state change, each in one transaction with its event (and the lease, for servers).
// Frames to agents go out only after the commit, so an agent never acts on a change that was lost.

export function requestChecks(ctx: Ctx, name: string): void {
  const { store } = ctx;
  const requestId = randomUUID();
  const node = store.tx(() => {
    const n = store.nodes.get(name);
    if (n?.state !== "enrolled") return null;
    store.nodes.update(name, {
      state: "checking",
      checksRequestId: requestId,
      stateSince: ctx.now(),
      message: null,
    });
    return n;
  });
  if (!node) return;
  const spec = ctx.spec();
  const nodes = store.nodes.list();
  const registration = registrationAddressOf(spec, nodes);
  const clusterUp = nodes.some((n) => n.role === "server" && n.state === "joined");
  ctx.logger.info({ node: name }, "checks requested");
  sendTo(ctx, name, {
    type: "checks.run",
    requestId,
    role: node.role,
    minimums: spec.checks[node.role],
    ignore: spec.checks.ignore,
    ...(spec.vip ? { vip: spec.vip } : {}),
    peers: nodes.filter((n) => n.name !== name).map((n) => n.address),
    vipInUse: clusterUp && spec.vip !== undefined && registration === spec.vip.address,
  });
}

export function recordChecks(ctx: Ctx, node: NodeRecord, results: CheckResult[]): void {
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
  });
  if (failing.length > 0) ctx.logger.warn({ node: node.name, failing: names }, "node failed its checks");
  else ctx.logger.info({ node: node.name }, "node passed its checks");
  ctx.schedule();
}

export function releasePlan(ctx: Ctx, name: string, init: boolean): void {
  const { store } = ctx;
  const spec = ctx.spec();
  const node = store.nodes.get(name);
  if (node?.state !== "waiting") return;
  const token = ctx.vault.token();
  const registration = init ? null : registrationAddressOf(spec, store.nodes.list());
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
  });
  ctx.logger.info({ node: name, role: node.role, init, checksum: plan.checksum }, "plan released");
  sendTo(ctx, name, { type: "plan.apply", plan });
}

/** The node's current plan, rebuilt from storage (the token re-inserted), or null if it has none. */
export function currentPlan(ctx: Ctx, node: NodeRecord): NodePlan | null {
  return node.plan === null ? null : planFromStorage(node.plan, ctx.vault.token());
}

export function failJoin(ctx: Ctx, name: string, reason: string): void {
  const { store } = ctx;
  const node = store.tx(() => {
    const n = store.nodes.get(name);
    if (n?.state !== "joining") return null;
    store.nodes.update(name, { state: "failed", message: reason, stateSince: ctx.now() });
    store.lease.release(name);
    store.events.append("node.join.failed", name, `${n.role} ${name} failed to join: ${reason}`);
    return n;
  });
  if (!node) return;
  ctx.logger.warn({ node: name, role: node.role, reason }, "join failed");
  ctx.schedule();
}

export function succeedJoin(ctx: Ctx, name: string): void {
  const { store } = ctx;
  const now = ctx.now();
  const node = store.tx(() => {
    const n = store.nodes.get(name);
    if (n?.state !== "joining") return null;
    store.nodes.update(name, { state: "joined", joinedAt: now, stateSince: now, message: null });
    store.lease.release(name);
    const took = n.releasedAt === null ? "" : ` in ${Math.round((now - n.releasedAt) / 1000)}s`;
    store.events.append(
      "node.join.succeeded",
      name,
      `${n.role} ${name} joined${took} (released ${iso(n.releasedAt ?? now)})`,
    );
    return n;
  });
  if (!node) return;
  ctx.logger.info({ node: name, role: node.role }, "node joined");
  ctx.schedule();
}
