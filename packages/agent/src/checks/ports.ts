import { listeningSockets } from "./listeners.ts";
import { type Check, fail, pass } from "./types.ts";

// RKE2's ports must be free, unless this node's own RKE2 holds them (a re-run on a joined node).
export const SERVER_PORTS = [6443, 9345, 2379, 2380, 2381, 10250, 10257, 10259];
export const AGENT_PORTS = [10250];
/** Process names (as /proc/<pid>/comm shows them, max 15 chars) that belong to RKE2. */
export const RKE2_PROCESSES = new Set([
  "rke2",
  "kube-apiserver",
  "etcd",
  "kubelet",
  "kube-controller",
  "kube-scheduler",
  "kube-proxy",
  "containerd",
  "cloud-controlle",
]);

export const portsCheck: Check = {
  name: "ports",
  async run({ request, facts, host }) {
    const ports = request.role === "server" ? SERVER_PORTS : AGENT_PORTS;
    const listeners = await listeningSockets(host.files, ports);
    const ownRke2 = facts.rke2.installed;
    const conflicts: string[] = [];
    const ours: number[] = [];
    for (const port of ports) {
      const holders = listeners.filter((l) => l.port === port);
      if (holders.length === 0) continue;
      const foreign = holders.filter((l) => !(ownRke2 && l.comm !== undefined && RKE2_PROCESSES.has(l.comm)));
      if (foreign.length === 0) {
        ours.push(port);
        continue;
      }
      const who = foreign.map((l) => (l.comm ? `${l.comm} (pid ${l.pid})` : "an unknown process"));
      conflicts.push(`${port} held by ${[...new Set(who)].join(", ")}`);
    }
    if (conflicts.length > 0)
      return fail(
        `ports in use: ${conflicts.join("; ")}`,
        "stop the process holding each port (ss -ltnp shows them); RKE2 needs them free",
      );
    const note = ours.length > 0 ? ` (${ours.join(", ")} held by this node's RKE2)` : "";
    return pass(`${request.role} ports ${ports.join(", ")} are free${note}`);
  },
};
