import { inSameSubnet } from "@muster/shared";
import type { ArpOutcome } from "../adapters/types.ts";
import { mapLimit } from "../tasks/map-limit.ts";
import { type Check, fail, pass, warn } from "./types.ts";

// Every peer in this node's subnet must answer ARP on the node's interface (kube-vip's gratuitous
// ARP and etcd peer traffic rely on one L2 segment). Peers in other subnets are routed: listed, not probed.
const CONCURRENCY = 16;

export const peersArpCheck: Check = {
  name: "peers-arp",
  async run({ facts, request, host }) {
    const node = facts.address;
    const owner = facts.interfaces.find((i) => i.ipv4.some((a) => a.address === node));
    const iface = request.vip?.interface ?? owner?.name ?? facts.defaultRoute?.interface;
    const prefix = owner?.ipv4.find((a) => a.address === node)?.prefix ?? 32;
    const peers = [...new Set(request.peers)].filter((p) => p !== node);
    if (peers.length === 0) return pass("no peers to check yet");
    if (!iface) return warn("no interface found to probe peers from", "configure a default route");
    const local = peers.filter((p) => inSameSubnet(node, p, prefix));
    const routed = peers.filter((p) => !local.includes(p));
    const results = await mapLimit(local, CONCURRENCY, (p) => host.arp.probeReachable(iface, p));
    const by = (s: ArpOutcome["status"]) => local.filter((_, i) => results[i]!.status === s);
    const silent = by("silent");
    const errors = by("error");
    const note = routed.length > 0 ? `; routed (not ARP-checked): ${routed.join(", ")}` : "";
    if (silent.length > 0)
      return fail(
        `no ARP reply on ${iface} from: ${silent.join(", ")}${note}`,
        "check that those nodes are up, on the same L2 network, and that ARP is not filtered",
      );
    if (errors.length > 0)
      return warn(
        `could not probe ${errors.join(", ")}: ${results.find((r) => r.status === "error")!.detail}${note}`,
        "install arping and run as root",
      );
    return pass(`${local.length} peer(s) answer ARP on ${iface}${note}`);
  },
};
