import type { TaskResultOf } from "@muster/shared";

// Who holds the VIP, judged from what agents on the servers saw (vip.observe): the MACs that
// answered ARP for it from each observer, plus the observer's own MAC when it holds the VIP itself
// (Linux never answers its own ARP request, so a holder sees only other holders). The VIP is good
// when exactly one MAC answers and at least one observer other than the holder saw it: verified
// from a peer, never assumed from the lease (kube-vip#1418, #1786). Pure: table-tested.

export type VipObservation =
  | { node: string; ok: true; result: TaskResultOf<"vip.observe"> }
  | { node: string; ok: false; error: string };

export type VipVerdict =
  | { state: "unknown"; detail: string }
  | { state: "none"; observers: string[]; detail: string }
  | { state: "one"; mac: string; holder: string | null; observers: string[]; detail: string }
  | { state: "many"; macs: string[]; holders: string[]; observers: string[]; detail: string };

/** `nameOfMac`: which node a MAC belongs to, from the nodes' facts (null when unknown). */
export function judgeVip(
  address: string,
  observations: readonly VipObservation[],
  nameOfMac: (mac: string) => string | null = () => null,
): VipVerdict {
  const seen = observations.filter((o) => o.ok);
  if (seen.length === 0) {
    const errors = observations.filter((o) => !o.ok).map((o) => `${o.node}: ${o.error}`);
    return {
      state: "unknown",
      detail:
        errors.length === 0
          ? `no connected server to observe VIP ${address} from yet`
          : `no server could observe VIP ${address} (${errors.join("; ")})`,
    };
  }
  const macs = new Set<string>();
  const localHolders = new Map<string, string>();
  for (const o of seen) {
    for (const m of o.result.macs) macs.add(m.toLowerCase());
    if (o.result.local && o.result.localMac) {
      macs.add(o.result.localMac.toLowerCase());
      localHolders.set(o.result.localMac.toLowerCase(), o.node);
    }
  }
  const holderOf = (mac: string) => localHolders.get(mac) ?? nameOfMac(mac);
  const label = (mac: string) => {
    const who = holderOf(mac);
    return who ? `${mac} (${who})` : mac;
  };
  const peers = seen.filter((o) => !o.result.local).map((o) => o.node);
  const observers = seen.map((o) => o.node);
  if (macs.size === 0)
    return {
      state: "none",
      observers,
      detail: `nothing answers ARP for VIP ${address} (seen from ${observers.join(", ")}): is kube-vip running on a server?`,
    };
  if (macs.size > 1) {
    const list = [...macs].sort();
    return {
      state: "many",
      macs: list,
      holders: list.map((m) => holderOf(m) ?? m),
      observers,
      detail: `${list.length} machines answer ARP for VIP ${address}: ${list.map(label).join(", ")} (seen from ${observers.join(", ")}); a stale holder keeps the address after kube-vip stopped (kube-vip#1786): run \`ip addr del ${address}/32 dev <interface>\` on the one that is not the lease holder`,
    };
  }
  const mac = [...macs][0]!;
  if (peers.length === 0)
    return {
      state: "unknown",
      detail: `VIP ${address} is held by ${label(mac)}; waiting for a peer server to confirm it over ARP`,
    };
  return {
    state: "one",
    mac,
    holder: holderOf(mac),
    observers,
    detail: `VIP ${address} answered by exactly one machine: ${label(mac)} (seen from ${peers.join(", ")})`,
  };
}

/** Two verdicts that mean the same to the planner (no new pass needed when equal). */
export function sameVerdict(a: VipVerdict, b: VipVerdict): boolean {
  return a.state === b.state && a.detail === b.detail;
}
