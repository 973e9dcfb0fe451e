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

export const vipFreeCheck: Check = {
  name: "vip-free",
  async run(ctx) {
    const { address: vip, interface: name } = ctx.request.vip!;
    if (ctx.request.vipInUse)
      return pass(`VIP ${vip} is in use by the cluster already (expected once kube-vip runs)`);
    const local = ctx.facts.interfaces.find((i) => i.ipv4.some((a) => a.address === vip));
    if (local)
      return fail(
        `VIP ${vip} is already assigned to this node's interface ${local.name}`,
        `remove it (ip addr del ${vip}/32 dev ${local.name}); kube-vip assigns the VIP itself`,
      );
    const probe = await ctx.host.arp.probeInUse(name, vip);
    if (probe.status === "answered")
      return fail(
        `VIP ${vip} already answers ARP on ${name}: another host uses it${probe.detail ? ` (${probe.detail})` : ""}`,
        "choose a free address for vip.address, or free it on the other host",
      );
    if (probe.status === "error")
      return warn(
        `could not check whether VIP ${vip} is free: ${probe.detail}`,
        "install arping and run as root, or check by hand: arping -c 2 <vip>",
      );
    return pass(`nothing answers ARP for VIP ${vip} on ${name}`);
  },
};
