// `--registration lb`: a real haproxy (Debian package) in its own machine, forwarding RKE2's
// supervisor (9345) and apiserver (6443) ports to every server, with TCP health checks so a joiner
// only ever reaches a server that listens (docs/reference.md#lab).
import fs from "node:fs";
import type { WorldNode } from "../world/node.ts";
import { startUnit } from "./services.ts";

export const LB_NAME = "lb";
export const LB_PORTS = [9345, 6443] as const;
// /etc/muster is a per-machine directory (a path under the /etc overlay that does not exist yet would
// map to the host's own file in node.path()).
const CONFIG = "/etc/muster/haproxy.cfg";

/** haproxy's configuration for the given servers (pure). */
export function haproxyConfig(listen: string, servers: readonly { name: string; address: string }[]): string {
  const lines = [
    "global",
    "  maxconn 4096",
    "defaults",
    "  mode tcp",
    "  timeout connect 3s",
    "  timeout client 1h",
    "  timeout server 1h",
  ];
  for (const port of LB_PORTS) {
    lines.push(`frontend fe-${port}`, `  bind ${listen}:${port}`, `  default_backend be-${port}`);
    lines.push(`backend be-${port}`, "  balance roundrobin", "  option tcp-check");
    for (const s of servers)
      lines.push(`  server ${s.name} ${s.address}:${port} check inter 1s fall 2 rise 1`);
  }
  return `${lines.join("\n")}\n`;
}

/** (Re)writes the config and (re)starts haproxy in the lb machine. */
export async function startHaproxy(lb: WorldNode, servers: readonly { name: string; address: string }[]) {
  fs.mkdirSync(lb.path("/etc/muster"), { recursive: true });
  fs.writeFileSync(lb.path(CONFIG), haproxyConfig(lb.ip, servers));
  const check = await lb.exec("haproxy", ["-c", "-q", "-f", CONFIG], { reject: false, all: true });
  if (check.exitCode !== 0) throw new Error(`lab: haproxy rejects its config: ${check.all}`);
  await startUnit(
    lb,
    "haproxy-lab",
    "[Unit]\nDescription=lab load balancer for 9345 and 6443\n\n[Service]\nType=simple\n" +
      `ExecStart=/usr/sbin/haproxy -db -f ${CONFIG}\nRestart=always\nRestartSec=1\n`,
  );
}
