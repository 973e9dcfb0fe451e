import { inSameSubnet } from "@muster/shared";
import { type Check, type CheckContext, fail, pass, warn } from "./types.ts";

// kube-vip ARP mode needs: the interface present and up with an IPv4, node and VIP on one subnet,
// and the VIP unused before the cluster takes it (docs/rke2-behaviour.md "Fixed registration address").
function vipIface(ctx: CheckContext) {
  const vip = ctx.request.vip!;
  return ctx.facts.interfaces.find((i) => i.name === vip.interface);
}

export const vipInterfaceCheck: Check = {
  name: "vip-interface",
  run: (ctx) => {
    const name = ctx.request.vip!.interface;
    const iface = vipIface(ctx);
    const known = ctx.facts.interfaces.map((i) => i.name).join(", ");
    if (!iface)
      return fail(
        `interface ${name} does not exist on this node (it has: ${known})`,
        "kube-vip needs the same interface name on every server; fix vip.interface in the spec or rename the NIC",
      );
    if (!iface.up) return fail(`interface ${name} is down`, `ip link set ${name} up`);
    if (iface.ipv4.length === 0)
      return fail(`interface ${name} has no IPv4 address`, `configure an IPv4 address on ${name}`);
    return pass(`interface ${name} is up with ${iface.ipv4.map((a) => a.address).join(", ")}`);
  },
};

export const vipSubnetCheck: Check = {
  name: "vip-subnet",
  run: (ctx) => {
    const { address: vip, interface: name } = ctx.request.vip!;
    const node = ctx.facts.address;
    const own = ctx.facts.interfaces.flatMap((i) => i.ipv4).find((a) => a.address === node);
    const prefix = own?.prefix ?? 32;
    if (!inSameSubnet(node, vip, prefix))
      return fail(
        `VIP ${vip} is not in this node's subnet ${node}/${prefix}`,
        "pick a VIP in the servers' subnet (kube-vip ARP mode works within one L2 subnet)",
      );
    const onIface = vipIface(ctx)?.ipv4.some((a) => inSameSubnet(a.address, vip, a.prefix)) ?? false;
    if (!onIface)
      return fail(
        `interface ${name} has no address in the VIP's subnet (node address ${node}/${prefix})`,
        `set vip.interface to the interface that carries ${node}`,
      );
    return pass(`VIP ${vip} and node address ${node} share ${node}/${prefix}`);
  },
};

// Before the cluster takes the VIP nothing may answer for it. Once it holds the VIP the coordinator
// sends vipOwners (the servers' MACs): answers from those are the cluster's own, any other MAC is a
// host that took the address. Linux does not answer its own ARP requests, so this node holding the
// VIP shows in its interface addresses, not in the replies.
export const vipFreeCheck: Check = {
  name: "vip-free",
  async run(ctx) {
    const { address: vip, interface: name } = ctx.request.vip!;
    const owners = ctx.request.vipOwners?.map((m) => m.toLowerCase());
    if (ctx.request.vipInUse && !owners)
      return pass(`VIP ${vip} is in use by the cluster already (expected once kube-vip runs)`);
    const local = ctx.facts.interfaces.find((i) => i.ipv4.some((a) => a.address === vip));
    const localMac = local?.mac.toLowerCase() ?? "";
    const localIsCluster = local !== undefined && owners?.includes(localMac) === true;
    if (local && !localIsCluster)
      return fail(
        `VIP ${vip} is held by this node (interface ${local.name}${localMac ? `, ${localMac}` : ""})${owners ? ", which is not one of the cluster's servers" : ""}`,
        `remove it (ip addr del ${vip}/32 dev ${local.name}); kube-vip assigns the VIP itself`,
      );
    const probe = await ctx.host.arp.owners(name, vip);
    if (!probe.ok)
      return warn(
        `could not check who answers ARP for VIP ${vip}: ${probe.detail}`,
        "install arping and run as root, or check by hand: arping -c 2 <vip>",
      );
    const names = ctx.request.vipOwnerNames ?? {};
    // Without a name from the coordinator (a standalone `check --vip`), the neighbour table may
    // still say which machine a MAC is: its own address.
    const known = probe.macs.some((m) => !names[m.toLowerCase()])
      ? await ctx.host.arp.neighbours(name).catch(() => new Map<string, string[]>())
      : new Map<string, string[]>();
    const named = (mac: string) => {
      const node = names[mac.toLowerCase()];
      if (node) return `${node} (${mac})`;
      const ips = (known.get(mac.toLowerCase()) ?? []).filter((ip) => ip !== vip);
      return ips.length > 0 ? `${mac} (${ips.join(", ")})` : mac;
    };
    const holdersOf = (macs: string[]) => [...(localIsCluster ? ["this node"] : []), ...macs.map(named)];
    const holders = holdersOf(probe.macs);
    if (!owners) {
      if (probe.macs.length > 0)
        return fail(
          `VIP ${vip} already answers ARP on ${name} from ${probe.macs.map(named).join(", ")}: another host uses it`,
          "choose a free address for vip.address, or free it on the other host",
        );
      return pass(`nothing answers ARP for VIP ${vip} on ${name}`);
    }
    const foreign = probe.macs.filter((m) => !owners.includes(m));
    if (foreign.length > 0)
      return fail(
        `VIP ${vip} is answered on ${name} by ${foreign.map(named).join(", ")}, not one of the cluster's servers: another host took it` +
          (holders.length > foreign.length
            ? ` (also held by ${holdersOf(probe.macs.filter((m) => !foreign.includes(m))).join(", ")})`
            : ""),
        "free the address on that host (look its MAC up in your switch or DHCP tables)",
      );
    if (holders.length === 0) return pass(`nothing answers ARP for VIP ${vip} on ${name} yet`);
    return pass(`VIP ${vip} is held by the cluster: ${holders.join(", ")}`);
  },
};
