import { type Check, fail, pass } from "./types.ts";

// `muster-agent check --interface IF` without a VIP: the interface the operator means to use must
// exist, be up and carry an IPv4 address (with a VIP, vip-interface checks the same for kube-vip).
export const interfaceCheck: Check = {
  name: "interface",
  run: ({ request, facts }) => {
    const name = request.interface!;
    const iface = facts.interfaces.find((i) => i.name === name);
    if (!iface)
      return fail(
        `interface ${name} does not exist on this node (it has: ${facts.interfaces.map((i) => i.name).join(", ")})`,
        "pass the name of an existing interface (ip -br link lists them)",
      );
    if (!iface.up) return fail(`interface ${name} is down`, `ip link set ${name} up`);
    if (iface.ipv4.length === 0)
      return fail(`interface ${name} has no IPv4 address`, `configure an IPv4 address on ${name}`);
    return pass(
      `interface ${name} is up with ${iface.ipv4.map((a) => `${a.address}/${a.prefix}`).join(", ")}`,
    );
  },
};
