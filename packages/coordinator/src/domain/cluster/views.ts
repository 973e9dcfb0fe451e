import {
  type ClusterPhase,
  type ClusterSpec,
  type ClusterView,
  type EventsPage,
  faultTolerance,
  type NodeView,
  quorum,
  quorumWarning,
} from "@muster/shared";
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

export function nodeView(n: NodeListing): NodeView {
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
}

export function clusterPhase({
  nodes,
  registration,
}: Pick<ClusterInput, "nodes" | "registration">): ClusterPhase {
  if (nodes.length === 0) return "empty";
  if (nodes.some((n) => n.role === "server" && n.state === "failed")) return "blocked";
  const init = nodes.find((n) => n.init);
  if (init?.state !== "joined") return "initializing";
  if (registration === "unhealthy" || nodes.some((n) => n.state === "joined" && !n.connected))
    return "degraded";
  if (registration === "healthy" && nodes.every((n) => n.state === "joined")) return "ready";
  return "forming";
}

function warnings(input: ClusterInput, address: string | null, members: number): string[] {
  const out: string[] = [];
  const q = quorumWarning(members);
  if (q) out.push(q);
  if (input.agentTokenLegacy && input.nodes.some((n) => n.role === "agent"))
    out.push(LEGACY_AGENT_TOKEN_WARNING);
  if (input.registration === "unhealthy" && address !== null)
    out.push(`registration address ${address} does not answer on 9345 and 6443`);
  for (const n of input.nodes) {
    if (n.state === "joined" && !n.connected) out.push(`${n.role} ${n.name} is disconnected`);
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
  const { spec, nodes, lease } = input;
  const servers = nodes.filter((n) => n.role === "server");
  const agents = nodes.filter((n) => n.role === "agent");
  // etcd members are the servers that joined; quorum is about them, not about servers still waiting.
  const members = servers.filter((n) => n.state === "joined").length;
  const address = registrationAddressOf(spec, nodes);
  return {
    name: spec.name,
    phase: clusterPhase(input),
    registrationAddress: address,
    servers: {
      total: servers.length,
      ready: members,
      quorum: quorum(members),
      faultTolerance: faultTolerance(members),
    },
    agents: { total: agents.length, ready: agents.filter((n) => n.state === "joined").length },
    joinInFlight: lease ? { node: lease.node, since: iso(lease.since) } : null,
    warnings: warnings(input, address, members),
  };
}

export function eventsPage(events: Pick<EventsRepo, "after">, after: number, limit: number): EventsPage {
  const page = events.after(after, limit);
  return { events: page, next: page.at(-1)?.seq ?? after };
}
