import type { ClusterSpec, NodeState, PlanStep, PlanView, Role } from "@muster/shared";
import type { VipVerdict } from "../registration/vip-verdict.ts";
import { reasons, type Step } from "./reasons.ts";

// The pure planner: (spec, nodes, lease, now, registration health, token known) -> actions, and a
// reason in words for every node not yet joined. No I/O and no clock, so every rule of docs/architecture.md
// (invariants 1-4, 6-7) is a table test. The sequencer applies the actions.

export interface NodeSnapshot {
  name: string;
  role: Role;
  init: boolean;
  state: NodeState;
  address: string;
  connected: boolean;
  /** Enrolment order (earlier first); ties in enrolment time are broken by it. */
  seq: number;
  releasedAt: number | null;
  message: string | null;
  phase: string | null;
  /** Names of the failing checks, for check-failed nodes. */
  failedChecks: readonly string[];
}

export interface LeaseSnapshot {
  node: string;
  since: number;
}

/** A control-plane operation holding the lease (removal, upgrade, restore): no server joins meanwhile. */
export interface OperationSnapshot {
  id: string;
  type: string;
  node: string | null;
  since: number;
}

export interface PlannerInput {
  spec: ClusterSpec;
  nodes: readonly NodeSnapshot[];
  /** The lease when a server's join holds it. */
  lease: LeaseSnapshot | null;
  /** The operation holding the lease, if one does (then `lease` is null). Absent: none. */
  operation?: OperationSnapshot | null;
  now: number;
  registrationHealthy: boolean;
  /**
   * When the registration address is muster's VIP: what peers see answering ARP for it. Joiners go
   * only when exactly one machine does (invariant 12). Absent or null: no VIP to verify.
   */
  vip?: VipVerdict | null;
  tokenKnown: boolean;
}

export type PlannerAction =
  | { type: "request-checks"; node: string }
  | { type: "release-plan"; node: string; init: boolean }
  | { type: "fail"; node: string; reason: string };

export interface PlannerOutput {
  actions: PlannerAction[];
  steps: PlanView["steps"];
}

/** Init server first, then servers, then agents; each group in enrolment order. */
export function planOrder<T extends Pick<NodeSnapshot, "init" | "role" | "seq">>(nodes: readonly T[]): T[] {
  const rank = (n: T) => (n.init ? 0 : n.role === "server" ? 1 : 2);
  // Nodes usually come in enrolment order (the store keeps them so): then a stable split by rank is
  // the order, in one pass instead of a sort on every planning pass.
  if (nodes.every((n, i) => i === 0 || nodes[i - 1]!.seq < n.seq)) {
    const starts = [0, 0, 0];
    for (const n of nodes) if (rank(n) < 2) starts[rank(n) + 1]! += 1;
    starts[2]! += starts[1]!;
    const out = new Array<T>(nodes.length);
    for (const n of nodes) out[starts[rank(n)]!++] = n;
    return out;
  }
  return [...nodes].sort((a, b) => rank(a) - rank(b) || a.seq - b.seq);
}

export function registrationAddressOf(
  spec: ClusterSpec,
  nodes: readonly Pick<NodeSnapshot, "init" | "address">[],
) {
  return registrationAddress(spec, nodes.find((n) => n.init) ?? null);
}

/** The address joiners register with: the spec's, else the VIP muster runs, else the init server's. */
export function registrationAddress(spec: ClusterSpec, init: Pick<NodeSnapshot, "address"> | null) {
  return spec.registrationAddress ?? spec.vip?.address ?? init?.address ?? null;
}

export function plan(input: PlannerInput): PlannerOutput {
  const { spec, now } = input;
  const actions: PlannerAction[] = [];
  // Input snapshots are never changed: a node whose state this pass decides is replaced by a copy.
  const nodes: NodeSnapshot[] = planOrder(input.nodes);

  // Timeouts first: a node that ran out of time is failed before anything else is decided.
  const timedOut = new Set<string>();
  for (const [i, n] of nodes.entries()) {
    if (n.state !== "joining" || n.releasedAt === null) continue;
    const key = n.role === "server" ? "serverJoin" : "agentJoin";
    const limit = spec.timeouts[key];
    if (now - n.releasedAt < limit * 1000) continue;
    const reason = `join timed out after ${limit}s (spec.timeouts.${key})${n.phase ? `; last phase: ${n.phase}` : ""}`;
    actions.push({ type: "fail", node: n.name, reason });
    nodes[i] = { ...n, state: "failed", message: reason };
    timedOut.add(n.name);
  }

  const servers = nodes.filter((n) => n.role === "server");
  let init = nodes.find((n) => n.init && n.role === "server") ?? null;
  const failedServer = servers.find((n) => n.state === "failed") ?? null;
  // The persisted lease is authoritative; a joining server without it would still count (belt and braces).
  const leaseHolder = input.lease && !timedOut.has(input.lease.node) ? input.lease.node : null;
  let serverInFlight = leaseHolder ?? servers.find((n) => n.state === "joining")?.name ?? null;
  let agentsJoining = 0;
  for (const n of nodes) if (n.role === "agent" && n.state === "joining") agentsJoining++;
  const registration = registrationAddressOf(spec, nodes);

  /** Why joiners cannot go yet because of the init server, or null when it is joined and the token known. */
  const initBlocker = (): Step | null => {
    if (init === null) return reasons.waitingForFirstServer();
    switch (init.state) {
      case "joined":
        return input.tokenKnown ? null : reasons.waitingForToken(init.name);
      case "joining":
        return reasons.waitingForInit(init.name);
      case "failed":
        return reasons.joinFailed(init.name, "server", init.message);
      case "check-failed":
        return reasons.initCheckFailed(init.name, init.failedChecks);
      default:
        return reasons.waitingForInitChecks(init.name);
    }
  };

  /** The gate before any joiner: the address answers on 9345/6443 and, for a VIP, one machine holds it. */
  const vip = input.vip ?? null;
  const registrationBlocker = (): Step | null => {
    const isVip = vip !== null && spec.vip?.address === registration;
    if (!input.registrationHealthy) return reasons.waitingForRegistration(registration, isVip);
    if (vip !== null && vip.state !== "one") return reasons.waitingForVipArp(vip.detail);
    return null;
  };

  const operation = input.operation ?? null;
  const serverBlocker = (n: NodeSnapshot): Step | null => {
    if (!n.connected) return reasons.waitingForReconnect();
    // Invariant 9: a removal, upgrade step or restore holds the one control-plane lease.
    if (operation) return reasons.waitingForOperation(operation.type, operation.id, operation.node);
    // No server ever released (or the init server is being retried): this one initialises the cluster.
    if (init === null || init.name === n.name)
      return serverInFlight === null ? null : reasons.waitingForServerJoin(serverInFlight);
    const initStep = initBlocker();
    if (initStep) return initStep;
    if (failedServer) return reasons.joinFailed(failedServer.name, "server", failedServer.message);
    const regStep = registrationBlocker();
    if (regStep) return regStep;
    if (serverInFlight !== null) return reasons.waitingForServerJoin(serverInFlight);
    return null;
  };

  const agentBlocker = (n: NodeSnapshot): Step | null => {
    if (!n.connected) return reasons.waitingForReconnect();
    const initStep = initBlocker();
    if (initStep) return initStep;
    const regStep = registrationBlocker();
    if (regStep) return regStep;
    const limit = spec.agents.concurrency;
    if (agentsJoining >= limit) return reasons.waitingForAgentSlot(agentsJoining, limit);
    return null;
  };

  const steps: PlanStep[] = [];
  const step = (n: NodeSnapshot, s: Step) => steps.push({ node: n.name, role: n.role, ...s });

  for (const n of nodes) {
    switch (n.state) {
      case "joined":
        continue;
      case "joining":
        step(n, reasons.joining(n.init, n.phase, n.releasedAt));
        continue;
      case "failed":
        step(n, reasons.joinFailed(n.name, n.role, n.message));
        continue;
      case "check-failed":
        step(n, reasons.checkFailed(n.name, n.failedChecks));
        continue;
      case "enrolled":
        if (n.connected) actions.push({ type: "request-checks", node: n.name });
        step(n, n.connected ? reasons.waitingForChecks() : reasons.waitingForConnect());
        continue;
      case "checking":
        step(n, n.connected ? reasons.waitingForChecks() : reasons.waitingForReconnect());
        continue;
      case "waiting": {
        const blocker = n.role === "server" ? serverBlocker(n) : agentBlocker(n);
        if (blocker) {
          step(n, blocker);
          continue;
        }
        const asInit = n.role === "server" && (init === null || init.name === n.name);
        actions.push({ type: "release-plan", node: n.name, init: asInit });
        if (asInit) init = { ...n, state: "joining" };
        if (n.role === "server") serverInFlight = n.name;
        else agentsJoining++;
        step(n, reasons.released(asInit));
      }
    }
  }
  return { actions, steps };
}
