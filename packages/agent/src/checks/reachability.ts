import { type PortProbe, type PortProber, tcpProbe, udpEchoProbe } from "../adapters/ports.ts";
import { mapLimit } from "../tasks/map-limit.ts";
import { type Check, fail, pass, type ReachTarget, warn } from "./types.ts";

// The reachability matrix, this node's row: every peer port the coordinator says this node needs
// (servers <-> servers: 9345, 6443, 2379, 2380, 2381, 10250; everyone -> the registration address:
// 9345, 6443; everyone <-> everyone: 8472/udp and 10250). Before RKE2 runs, a peer that passed its
// checks holds muster's temporary listeners (responders.ts), so a refused or silent port is a real
// failure; a UDP target answers only through that responder (an echo), since RKE2's VXLAN never does.
export const REACH_TIMEOUT_MS = 2000;
const CONCURRENCY = 32;
/**
 * A failing pair is probed again every `intervalMs` until `deadlineMs` (a listener slow under load, an
 * RKE2 restarting). Then a joined peer's port (RKE2's own listener) still silent or unreachable fails
 * the check, and one that refuses warns (the host answers; RKE2 is down there); a waiting peer's
 * (muster's temporary listener) only warns: that peer may have been released to install meanwhile,
 * which closes its listeners for minutes before RKE2 listens.
 */
export const reachRetry = { deadlineMs: 15_000, intervalMs: 1000 };

export interface PairFailure {
  target: ReachTarget;
  detail: string;
  refused?: boolean;
}

/** The fix for one failing pair, as a firewall rule on the peer (and on anything in between). */
export function pairFix(from: string, t: ReachTarget): string {
  return `allow ${t.protocol}/${t.port} from ${from} to ${t.node} (${t.address}) on the peer and any firewall in between (e.g. firewall-cmd --add-port=${t.port}/${t.protocol} --permanent on ${t.node})`;
}

export function describePair(self: string, f: PairFailure): string {
  return `${self} -> ${f.target.node} ${f.target.address} ${f.target.protocol}/${f.target.port}: ${f.detail}`;
}

export const peersPortsCheck: Check = {
  name: "peers-ports",
  async run({ request, facts, host }) {
    const targets = request.reachability ?? [];
    if (targets.length === 0)
      return pass("no peer ports to probe yet (the first node, or peers still checking)");
    const prober: PortProber | undefined = host.ports;
    const tcp = prober?.tcp ?? tcpProbe;
    const udp = prober?.udpEcho ?? udpEchoProbe;
    const probe = (t: ReachTarget): Promise<PortProbe> =>
      t.protocol === "tcp"
        ? tcp(t.address, t.port, REACH_TIMEOUT_MS)
        : t.responder
          ? udp(t.address, t.port, REACH_TIMEOUT_MS)
          : Promise.resolve({ ok: true, detail: "not verifiable without a responder" });
    const deadline = Date.now() + reachRetry.deadlineMs;
    let failing: PairFailure[] = [];
    let pending = [...targets];
    for (;;) {
      const results = await mapLimit(pending, CONCURRENCY, probe);
      failing = pending
        .map((target, i) => ({
          target,
          ok: results[i]!.ok,
          detail: results[i]!.detail,
          refused: results[i]!.refused === true,
        }))
        .filter((r) => !r.ok);
      if (failing.length === 0 || Date.now() + reachRetry.intervalMs > deadline) break;
      pending = failing.map((f) => f.target);
      await new Promise((r) => setTimeout(r, reachRetry.intervalMs));
    }
    const self = facts.address;
    // A joined server's own port that answers with a reset is reachable: RKE2 is not listening there
    // (stopped, restarting, being upgraded), which is that node's state, not this node's network.
    // Only silence or an unreachable route fails; a refusal warns.
    const required = failing.filter((f) => !f.target.optional && !f.target.responder);
    const hard = required.filter((f) => !f.refused);
    const down = required.filter((f) => f.refused);
    const moved = failing.filter((f) => !f.target.optional && f.target.responder);
    const soft = failing.filter((f) => f.target.optional);
    const peers = new Set(targets.map((t) => t.node)).size;
    if (hard.length > 0)
      return fail(
        `cannot reach: ${hard.map((f) => describePair(self, f)).join("; ")}`,
        [...new Set(hard.map((f) => pairFix(self, f.target)))].join("; "),
      );
    if (down.length > 0)
      return warn(
        `reachable but nothing listens (is RKE2 stopped there?): ${down.map((f) => describePair(self, f)).join("; ")}`,
        `start rke2 on ${[...new Set(down.map((f) => f.target.node))].join(", ")}, or remove it if it is gone (muster remove NAME)`,
      );
    if (moved.length > 0)
      return warn(
        `cannot reach (a peer that was waiting may have started installing; re-run the checks to test again): ${moved.map((f) => describePair(self, f)).join("; ")}`,
        [...new Set(moved.map((f) => pairFix(self, f.target)))].join("; "),
      );
    if (soft.length > 0)
      return warn(
        `cannot reach (needed only with etcd-expose-metrics): ${soft.map((f) => describePair(self, f)).join("; ")}`,
        [...new Set(soft.map((f) => pairFix(self, f.target)))].join("; "),
      );
    const udpSkipped = targets.filter((t) => t.protocol === "udp" && !t.responder).length;
    const note = udpSkipped > 0 ? ` (${udpSkipped} UDP target(s) on running nodes not verifiable)` : "";
    return pass(`${targets.length} port(s) on ${peers} peer(s) reachable${note}`);
  },
};
