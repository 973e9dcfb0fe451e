import { type CheckResult, type CoordinatorCheckName, inSameSubnet, type NodeFacts } from "@muster/shared";

// Checks only the coordinator can make, because they compare nodes with each other or with the spec
// (kube-vip ARP mode, docs/rke2-behaviour.md: same interface name on all nodes, nodes and VIP on one subnet).
// They apply to servers: kube-vip runs the control-plane VIP on servers, and agents only need to
// route to it, so an agent on another subnet is fine. Their names (COORDINATOR_CHECK_NAMES) are
// never an agent check's, so the coordinator's results simply join the agent's.

/** A coordinator check's result: its name is one of COORDINATOR_CHECK_NAMES. */
export type CrossNodeResult = CheckResult & { name: CoordinatorCheckName };

export interface VipSpec {
  address: string;
  interface: string;
}

export interface PeerFacts {
  name: string;
  facts: NodeFacts;
}

/** The VIP interface must exist on this node; other servers lacking it are named as a warning. */
export function vipInterfaceConsistent(
  vip: VipSpec,
  self: PeerFacts,
  servers: readonly PeerFacts[],
): CrossNodeResult {
  const has = (p: PeerFacts) => p.facts.interfaces.some((i) => i.name === vip.interface);
  const lacking = [self, ...servers.filter((s) => s.name !== self.name)]
    .filter((p) => !has(p))
    .map((p) => p.name);
  const fix = `kube-vip needs interface ${vip.interface} (spec vip.interface) on every server: rename the interface, or set vip.interface to a name all servers share`;
  if (!has(self))
    return {
      name: "vip-interface-consistent",
      status: "fail",
      message: `interface ${vip.interface} is missing on this node (servers lacking it: ${lacking.join(", ")})`,
      fix,
    };
  if (lacking.length > 0)
    return {
      name: "vip-interface-consistent",
      status: "warn",
      message: `interface ${vip.interface} is present here but missing on: ${lacking.join(", ")}`,
      fix,
    };
  return {
    name: "vip-interface-consistent",
    status: "pass",
    message: `interface ${vip.interface} is present`,
  };
}

/**
 * The node's address as enrolled must share a subnet with the VIP, judged by the prefix of the
 * interface holding it (the agent's vip-subnet judges the address it sees itself).
 */
export function vipSubnetMatches(vip: VipSpec, address: string, facts: NodeFacts): CrossNodeResult {
  const holder = facts.interfaces
    .flatMap((i) => i.ipv4.map((a) => ({ iface: i.name, ...a })))
    .find((a) => a.address === address);
  if (!holder)
    return {
      name: "vip-subnet-matches",
      status: "fail",
      message: `the node address ${address} is not assigned to any interface, so its subnet is unknown`,
      fix: "set the node address (bootstrap --address) to an IPv4 address of this node",
    };
  const cidr = `${holder.address}/${holder.prefix}`;
  if (inSameSubnet(address, vip.address, holder.prefix))
    return {
      name: "vip-subnet-matches",
      status: "pass",
      message: `VIP ${vip.address} is on ${cidr} (${holder.iface})`,
    };
  return {
    name: "vip-subnet-matches",
    status: "fail",
    message: `VIP ${vip.address} is not on this node's subnet ${cidr} (${holder.iface})`,
    fix: "ARP can only announce the VIP on the servers' own subnet: choose a free address in that subnet for vip.address",
  };
}

/** Coordinator-side checks for a node (empty when there is no VIP or the node is an agent). */
export function crossNodeChecks(
  vip: VipSpec | undefined,
  self: PeerFacts & { role: "server" | "agent"; address: string },
  servers: readonly PeerFacts[],
): CrossNodeResult[] {
  if (!vip || self.role !== "server") return [];
  return [vipInterfaceConsistent(vip, self, servers), vipSubnetMatches(vip, self.address, self.facts)];
}
