import type { ClusterSpec } from "@muster/shared";
import type { Store } from "../../store/store.ts";

/**
 * Which server a MAC on the VIP interface belongs to, from the servers' reported facts (null when
 * none): how VIP verdicts and step messages name a holder ("VIP moved to server-3").
 */
export function macOwner(
  store: { nodes: Pick<Store["nodes"], "summaries" | "get"> },
  spec: () => ClusterSpec,
): (mac: string) => string | null {
  return (mac) => {
    const iface = spec().vip?.interface;
    if (!iface) return null;
    for (const n of store.nodes.summaries()) {
      if (n.role !== "server") continue;
      const fact = store.nodes.get(n.name)?.facts.interfaces.find((i) => i.name === iface);
      if (fact?.mac.toLowerCase() === mac.toLowerCase()) return n.name;
    }
    return null;
  };
}
