import { AGENT_PORTS, SERVER_PORTS } from "./ports.ts";
import { type Check, pass, warn } from "./types.ts";

// An active host firewall does not stop the install but silently breaks joins: warn, naming the
// ports to open. Canal/flannel also need UDP 8472 (VXLAN) between nodes.
const EXTRA_UDP = ["8472/udp"];

export const firewallCheck: Check = {
  name: "firewall",
  async run({ request, host }) {
    const tcp = (request.role === "server" ? SERVER_PORTS : AGENT_PORTS).map((p) => `${p}/tcp`);
    const ports = [...tcp, ...EXTRA_UDP];
    if (await host.systemd.isActive("firewalld"))
      return warn(
        `firewalld is active; open ${ports.join(", ")} between nodes`,
        ports.map((p) => `firewall-cmd --permanent --add-port=${p}`).join(" && ") +
          " && firewall-cmd --reload",
      );
    const ufw = await host.exec.run("ufw", ["status"], { timeoutMs: 5000 });
    if (ufw.exitCode === 0 && /^Status:\s*active/m.test(ufw.stdout))
      return warn(
        `ufw is active; open ${ports.join(", ")} between nodes`,
        ports.map((p) => `ufw allow ${p}`).join(" && "),
      );
    return pass("no active firewalld or ufw");
  },
};
