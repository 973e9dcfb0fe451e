import {
  type ClusterPhase,
  type ClusterSpec,
  type ClusterView,
  type EventsPage,
  faultTolerance,
  type NodeView,
  quorum,
  quorumPicture,
  quorumWarning,
  quorumWarnings,
  type VoterHealth,
} from "@muster/shared";
import type { NodeClaim } from "../../store/claims-repo.ts";
import type { EventsRepo } from "../../store/events-repo.ts";
import type { JoinLease } from "../../store/lease-repo.ts";
import type { NodeSummary } from "../../store/node-summaries.ts";
import type { NodeListing } from "../../store/nodes-repo.ts";
import { registrationAddressOf } from "../planner/planner.ts";
import type { RegistrationHealth } from "../registration/monitor.ts";
import { LEGACY_AGENT_TOKEN_WARNING } from "../secrets/agent-token.ts";
import { iso } from "../time.ts";

// What the REST API shows. Built from records field by field, so a credential hash or a plan (which
// would hold the token) can never slip into a response. The cluster view is built from the in-memory
// node summaries, so `muster status` costs no table scan however many nodes there are.

/** How a claim on a node's identity shows (transitions/approval.ts). */
export function claimView(c: NodeClaim): NonNullable<NodeView["claim"]> {
  const pending = c.approvedAt === null;
  return {
    state: pending ? "pending-approval" : "approved",
    reason: pending
      ? `machine ${c.facts.hostname} (${c.address}, from ${c.remote}) presented this node's machine id with join token ${c.joinTokenId} but not its credential; run \`muster nodes approve ${c.node}\` to let it take over`
      : `approved: machine ${c.facts.hostname} (${c.address}) takes over when it next connects`,
    address: c.address,
    hostname: c.facts.hostname,
    requestedAt: iso(c.requestedAt),
  };
}

export function nodeView(n: NodeListing, claim: NodeClaim | null = null): NodeView {
  return {
    name: n.name,
    role: n.role,
    init: n.init,
    state: n.state,
    address: n.address,
    connected: n.connected,
    ...(n.message !== null ? { message: n.message } : {}),
    ...(n.phase !== null ? { phase: n.phase } : {}),
    ...(n.checks !== null ? { checks: n.checks } : {}),
    enrolledAt: iso(n.enrolledAt),
    ...(n.joinedAt !== null ? { joinedAt: iso(n.joinedAt) } : {}),
    ...(claim ? { claim: claimView(claim) } : {}),
  };
}

/** What the cluster view needs of a node. */
export type ClusterNode = Pick<
  NodeSummary,
  "name" | "role" | "init" | "state" | "address" | "connected" | "message" | "failedChecks"
>;

export interface ClusterInput {
  spec: ClusterSpec;
  nodes: readonly ClusterNode[];
  lease: JoinLease | null;
  registration: RegistrationHealth;
  /** Agents still receive the server token (domain/secrets/agent-token.ts). */
  agentTokenLegacy?: boolean;
  /** Machines waiting to take over a node's identity. */
  claims?: readonly NodeClaim[];
  /** The type of the control-plane operation holding the lease, if one does. */
  operation?: string | null;
}

/** A server in these states has (or may still have) an etcd member. */
const MEMBER_STATES = new Set(["joined", "lost", "removing"]);

/** Servers that are etcd voting members, and whether each votes now (docs/reference.md#what-if). */
export function votersOf(
  nodes: readonly Pick<ClusterNode, "name" | "role" | "state" | "connected">[],
): VoterHealth[] {
  return nodes
    .filter((n) => n.role === "server" && MEMBER_STATES.has(n.state))
    .map((n) => ({ node: n.name, healthy: n.state === "joined" && n.connected }));
}

export function clusterPhase({
  nodes: all,
  registration,
  operation,
}: Pick<ClusterInput, "nodes" | "registration" | "operation">): ClusterPhase {
  if (operation === "restore") return "restoring";
  if (operation === "upgrade") return "upgrading";
  // A removed node is history: it counts for nothing.
  const nodes = all.filter((n) => n.state !== "removed");
  if (nodes.length === 0) return "empty";
  if (nodes.some((n) => n.role === "server" && n.state === "failed")) return "blocked";
  const init = nodes.find((n) => n.init);
  if (init?.state !== "joined") return "initializing";
  if (
    registration === "unhealthy" ||
    nodes.some((n) => n.state === "lost" || (n.state === "joined" && !n.connected))
  )
    return "degraded";
  if (registration === "healthy" && nodes.every((n) => n.state === "joined" || n.state === "removing"))
    return "ready";
  return "forming";
}

function warnings(input: ClusterInput, address: string | null, members: number): string[] {
  const out: string[] = [];
  const q = quorumWarning(members);
  if (q) out.push(q);
  // With a member unhealthy, say what one more loss would do (all healthy: the count warning says it).
  const picture = quorumPicture(votersOf(input.nodes));
  if (picture.healthy < picture.members)
    out.push(...quorumWarnings(picture).filter((w) => w.startsWith("etcd has")));
  if (input.agentTokenLegacy && input.nodes.some((n) => n.role === "agent"))
    out.push(LEGACY_AGENT_TOKEN_WARNING);
  for (const c of input.claims ?? [])
    if (c.approvedAt === null) out.push(`node ${c.node}: ${claimView(c).reason}`);
  if (input.registration === "unhealthy" && address !== null)
    out.push(`registration address ${address} does not answer on 9345 and 6443`);
  for (const n of input.nodes) {
    if (n.state === "joined" && !n.connected) out.push(`${n.role} ${n.name} is disconnected`);
    if (n.state === "lost")
      out.push(
        `${n.role} ${n.name} is lost (${n.message ?? "its agent is gone and its Kubernetes node is not Ready"}); bring it back or run \`muster remove ${n.name} --force\``,
      );
    if (n.state === "failed")
      out.push(
        `${n.role} ${n.name} failed to join: ${n.message ?? "no reason given"}; run \`muster retry ${n.name}\``,
      );
    if (n.state === "check-failed")
      out.push(
        `${n.role} ${n.name} failed its checks (${n.failedChecks.join(", ")}); fix them and run \`muster retry ${n.name}\``,
      );
  }
  return out;
}

export function clusterView(input: ClusterInput): ClusterView {
  const { spec, lease } = input;
  const nodes = input.nodes.filter((n) => n.state !== "removed");
  const servers = nodes.filter((n) => n.role === "server");
  const agents = nodes.filter((n) => n.role === "agent");
  // etcd members are the servers that joined (lost ones still are members until removed); quorum is
  // about them, not about servers still waiting. Tolerance left counts only healthy members.
  const voters = votersOf(nodes);
  const members = voters.length;
  const healthy = voters.filter((v) => v.healthy).length;
  const address = registrationAddressOf(spec, nodes);
  return {
    name: spec.name,
    phase: clusterPhase(input),
    registrationAddress: address,
    servers: {
      total: servers.length,
      ready: servers.filter((n) => n.state === "joined").length,
      quorum: quorum(members),
      faultTolerance: Math.max(0, Math.min(faultTolerance(members), healthy - quorum(members))),
    },
    agents: { total: agents.length, ready: agents.filter((n) => n.state === "joined").length },
    joinInFlight: lease ? { node: lease.node, since: iso(lease.since) } : null,
    warnings: warnings({ ...input, nodes }, address, members),
  };
}

export function eventsPage(events: Pick<EventsRepo, "after">, after: number, limit: number): EventsPage {
  const page = events.after(after, limit);
  return { events: page, next: page.at(-1)?.seq ?? after };
}
