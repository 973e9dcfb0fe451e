import { randomUUID } from "node:crypto";
import type { CheckResult, ClusterSpec } from "@muster/shared";
import type { NodeSummary } from "../../../store/node-summaries.ts";
import { type ReachTarget, reachabilityTargets } from "../../cluster/reachability.ts";
import { registrationAddress } from "../../planner/planner.ts";
import { installSpecFor, serviceFor } from "../plan-builder.ts";
import type { TransitionDeps } from "./deps.ts";

// enrolled -> checking (checks.run) -> waiting (install.prepare) or check-failed.

/**
 * The most peers one checks.run names: every server, then agents in enrolment order. Up to 257 nodes
 * that is every other node. Beyond, a full list would make checks.run frames O(N) and their bytes
 * O(N^2) across an enrolling fleet (at 10,000 nodes about 0.7 GB through TLS, and the coordinator's
 * memory ballooning with buffered frames), and have each agent ARP-probe thousands of hosts; the
 * servers (etcd peers, kube-vip) plus a fixed sample of agents still find a node cut off its L2.
 */
export const PEERS_LIMIT = 256;
const MAC = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;

/** A node's MAC on the VIP interface, from the facts it reported at enrolment. */
export function vipMacOf(d: Pick<TransitionDeps, "store" | "spec">): (name: string) => string | null {
  return (name) => {
    const iface = d.spec().vip?.interface;
    if (!iface) return null;
    const mac = d.store.nodes.get(name)?.facts.interfaces.find((i) => i.name === iface)?.mac;
    return mac ? mac.toLowerCase() : null;
  };
}

/** What every checks.run of one planning pass shares, worked out once per pass. */
export interface PassChecksContext {
  /** Other nodes' addresses: every server first, then agents, at most PEERS_LIMIT. */
  peers(name: string): string[];
  vipInUse: boolean;
  /** The servers' MACs on the VIP interface (vip-free then tells the cluster's own holder apart). */
  vipOwners: string[];
  /** Each owner MAC (lower case) -> its server's name, so vip-free names the holder. */
  vipOwnerNames?: Record<string, string>;
  /** The reachability matrix's row for this node (peers-ports). */
  reachability(name: string): ReachTarget[];
}

type PeerNode = Pick<NodeSummary, "name" | "role" | "state" | "init" | "address">;

/**
 * Machines not expected to answer (power lost, being removed, removed): probing them would fail a
 * newcomer's peers-arp and peers-ports checks for a node the operator is already replacing.
 */
const GONE: ReadonlySet<string> = new Set(["lost", "removing", "removed"]);

/**
 * `macOf(name)`: a server's MAC on the VIP interface from its reported facts (null: unknown). Asked
 * only when the spec has a VIP. `registrationHealthy`: the coordinator's last probe of the
 * registration address answered (monitor.ts); only then is it a target of the matrix. A joined
 * server is not enough: a VIP nobody holds yet, or a load balancer not forwarding yet, is what the
 * join gate waits for, not a fault of the newcomer's network (the joiner waits, it does not fail).
 */
export function checksContext(
  spec: ClusterSpec,
  nodes: readonly PeerNode[],
  macOf: (name: string) => string | null = () => null,
  registrationHealthy = false,
): PassChecksContext {
  const registration = registrationAddress(spec, nodes.find((n) => n.init) ?? null);
  const clusterUp = nodes.some((n) => n.role === "server" && n.state === "joined");
  // Every server, then the earliest agents: PEERS_LIMIT + 1 candidates, so one can be the node itself.
  const servers: PeerNode[] = [];
  const agents: PeerNode[] = [];
  for (const n of nodes)
    if (GONE.has(n.state)) continue;
    else if (n.role === "server") servers.push(n);
    else if (agents.length <= PEERS_LIMIT) agents.push(n);
  const candidates = servers.concat(agents).slice(0, PEERS_LIMIT + 1);
  const vipOwners = spec.vip
    ? // Every server's MAC, gone ones too: a lost server's kube-vip may still answer for the VIP.
      [
        ...new Set(
          nodes
            .filter((n) => n.role === "server")
            .map((n) => macOf(n.name))
            .filter((m): m is string => !!m && MAC.test(m)),
        ),
      ]
    : [];
  const vipOwnerNames: Record<string, string> = {};
  if (spec.vip)
    for (const n of nodes) {
      const mac = n.role === "server" ? macOf(n.name)?.toLowerCase() : undefined;
      if (mac && MAC.test(mac) && Object.keys(vipOwnerNames).length < 64) vipOwnerNames[mac] = n.name;
    }
  return {
    vipInUse: clusterUp && spec.vip !== undefined && registration === spec.vip.address,
    vipOwners: vipOwners.slice(0, 64),
    vipOwnerNames,
    reachability: (name) => {
      if (!spec.checks.reachability) return [];
      const self = nodes.find((n) => n.name === name);
      if (!self) return [];
      const reach = registration ? { address: registration, up: clusterUp && registrationHealthy } : null;
      return reachabilityTargets(self, candidates, reach);
    },
    peers: (name) =>
      candidates
        .filter((n) => n.name !== name)
        .slice(0, PEERS_LIMIT)
        .map((n) => n.address),
  };
}

/**
 * Asks an enrolled node for its checks. Only a planning pass calls it, so it does not notify.
 * Relaxed (store/db.ts): a reconnecting agent is asked again, and a lost request only goes unanswered.
 */
export function requestChecks(
  d: TransitionDeps,
  name: string,
  shared = checksContext(d.spec(), d.store.nodes.summaries(), vipMacOf(d)),
): void {
  const { store } = d;
  const requestId = randomUUID();
  store.tx(() => {
    const node = store.nodes.summary(name);
    if (node?.state !== "enrolled") return;
    store.nodes.update(name, {
      state: "checking",
      checksRequestId: requestId,
      stateSince: d.now(),
      message: null,
    });
    const spec = d.spec();
    const reachability = shared.reachability(name);
    store.afterCommit(() => {
      d.log.info({ node: name }, "checks requested");
      d.links.send(name, {
        type: "checks.run",
        requestId,
        role: node.role,
        minimums: spec.checks[node.role],
        ignore: spec.checks.ignore,
        ...(spec.vip ? { vip: { address: spec.vip.address, interface: spec.vip.interface } } : {}),
        peers: shared.peers(name),
        vipInUse: shared.vipInUse,
        ...(shared.vipOwners.length > 0
          ? { vipOwners: shared.vipOwners, vipOwnerNames: shared.vipOwnerNames ?? {} }
          : {}),
        ...(reachability.length > 0 ? { reachability } : {}),
      });
    });
  }, "relaxed");
}

/**
 * The node's check results (the agent's and the coordinator's, ignores applied): waiting and asked
 * to pre-stage its install, or check-failed. Relaxed (db.ts): lost, the node is checking again after
 * a restart and is asked again.
 */
export function recordChecks(d: TransitionDeps, name: string, results: CheckResult[]): void {
  const { store, log } = d;
  const failing = results.filter((c) => c.status === "fail");
  const names = failing.map((c) => c.name);
  store.tx(() => {
    store.nodes.update(name, {
      state: failing.length > 0 ? "check-failed" : "waiting",
      checks: results,
      checksRequestId: null,
      message: failing.length > 0 ? `check-failed: ${names.join(", ")}` : null,
      stateSince: d.now(),
    });
    if (failing.length > 0) {
      const detail = failing
        .map((c) => `${c.name}: ${c.message}${c.fix ? ` (fix: ${c.fix})` : ""}`)
        .join("; ");
      store.events.append("node.checks.failed", name, `checks failed on ${name}: ${detail}`);
    } else {
      const warned = results.filter((c) => c.status === "warn").map((c) => c.name);
      const note = warned.length > 0 ? ` (warnings: ${warned.join(", ")})` : "";
      store.events.append("node.checks.passed", name, `checks passed on ${name}${note}`);
    }
    store.afterCommit(() => {
      if (failing.length > 0) log.warn({ node: name, failing: names }, "node failed its checks");
      else {
        log.info({ node: name }, "node passed its checks");
        prepare(d, name);
      }
      d.changes.notify();
    });
  }, "relaxed");
}

/**
 * Asks a waiting node to install RKE2 now. The installer starts nothing, so this is safe before the
 * join lease; it takes the install (in air-gap, hundreds of MB of images) off the serial join path.
 */
export function prepare(d: TransitionDeps, name: string): void {
  const node = d.store.nodes.summary(name);
  if (node?.state !== "waiting") return;
  const install = installSpecFor(d.spec(), node.role);
  d.links.send(name, { type: "install.prepare", install, service: serviceFor(node.role) });
}
