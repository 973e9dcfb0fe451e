import type { ReachTarget } from "@muster/shared";
// The inter-node reachability matrix: which peer ports a node must reach, sent with its checks.run
// (the agent's peers-ports check probes them and names each failing pair with its fix). A peer is a
// target only when something answers on its ports:
// - `waiting` (passed its checks, not installed yet): muster's temporary listeners, every port of
//   the matrix including 8472/udp (echoed);
// - `joined`: RKE2's own listeners; only the supervisor and API server (9345, 6443) of servers are
//   probed, the ports every RKE2 server listens on at its node address.
// Peers still checking are skipped: their own check probes this node (which then holds its
// listeners), so each pair is probed at least one way. Routed peers (another subnet) are probed the
// same: TCP and UDP are routed; only kube-vip's ARP needs one L2 (vip-* and peers-arp checks).

export interface ReachPeer {
  name: string;
  role: "server" | "agent";
  state: string;
  address: string;
}

export type { ReachTarget } from "@muster/shared";

/** server -> server: supervisor, API, etcd client and peer, kubelet; etcd metrics is optional. */
export const SERVER_TO_SERVER_TCP = [9345, 6443, 2379, 2380, 10250];
export const OPTIONAL_SERVER_TCP = [2381];
/** agent -> server (and -> the registration address): supervisor, API. */
export const AGENT_TO_SERVER_TCP = [9345, 6443];
/** servers reach every kubelet (logs, exec, metrics). */
export const KUBELET_TCP = 10250;
/** Canal/flannel VXLAN between every pair of nodes. */
export const VXLAN_UDP = 8472;
export const REACH_TARGETS_LIMIT = 4096;

export function reachabilityTargets(
  self: Pick<ReachPeer, "name" | "role" | "address">,
  peers: readonly ReachPeer[],
  registration: { address: string; up: boolean } | null,
): ReachTarget[] {
  const out: ReachTarget[] = [];
  const add = (
    p: ReachPeer | { name: string; address: string },
    port: number,
    protocol: "tcp" | "udp",
    responder: boolean,
    optional = false,
  ) =>
    out.push({
      node: p.name,
      address: p.address,
      port,
      protocol,
      responder,
      ...(optional ? { optional } : {}),
    });
  for (const p of peers) {
    if (p.name === self.name || p.address === self.address) continue;
    if (p.state === "waiting") {
      if (p.role === "server") {
        const tcp = self.role === "server" ? SERVER_TO_SERVER_TCP : AGENT_TO_SERVER_TCP;
        for (const port of tcp) add(p, port, "tcp", true);
        if (self.role === "server") for (const port of OPTIONAL_SERVER_TCP) add(p, port, "tcp", true, true);
      } else if (self.role === "server") add(p, KUBELET_TCP, "tcp", true);
      add(p, VXLAN_UDP, "udp", true);
    } else if (p.state === "joined" && p.role === "server") {
      for (const port of AGENT_TO_SERVER_TCP) add(p, port, "tcp", false);
    }
  }
  // The registration address (a VIP or a load balancer), once a server answers behind it.
  if (
    registration?.up &&
    registration.address !== self.address &&
    !peers.some((p) => p.address === registration.address)
  )
    for (const port of AGENT_TO_SERVER_TCP)
      add({ name: "registration", address: registration.address }, port, "tcp", false);
  return out.slice(0, REACH_TARGETS_LIMIT);
}
