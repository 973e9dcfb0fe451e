import { CloseCodes, type CoordinatorFrame, type Logger } from "@muster/shared";
import type { Store } from "../../store/store.ts";
import type { AgentLink } from "../service.ts";

// The live agent links, one per connected node, and the heartbeats they bring. Bookkeeping only:
// what a node's connecting or leaving changes is a transition (transitions/connections.ts).

export interface LinksDeps {
  store: Pick<Store, "tx"> & { nodes: Pick<Store["nodes"], "update"> };
  log: Logger;
}

export function createLinks(deps: LinksDeps) {
  const { store, log } = deps;
  const links = new Map<string, AgentLink>();
  const heartbeats = new Map<string, number>();

  return {
    /** Makes `link` the node's current link; an older link of the node is closed (REPLACED). */
    attach(node: string, link: AgentLink): void {
      const previous = links.get(node);
      links.set(node, link);
      if (previous && previous !== link)
        previous.close(CloseCodes.REPLACED, "replaced by a newer connection");
    },

    /**
     * Forgets `link` if it is the node's current link, and says whether it was: a replaced link
     * closing late must not mark the node's newer connection as gone.
     */
    detach(node: string, link: AgentLink): boolean {
      if (links.get(node) !== link) return false;
      links.delete(node);
      return true;
    },

    /** Closes the node's link, if it has one (it was removed: its credential no longer works). */
    disconnect(node: string): void {
      links.get(node)?.close(CloseCodes.UNAUTHORIZED, "this node was removed from the cluster");
    },

    /** Sends a frame if the node is connected; a broken link is logged and left to the hub to close. */
    send(node: string, frame: CoordinatorFrame): boolean {
      const link = links.get(node);
      if (!link) return false;
      try {
        link.send(frame);
        return true;
      } catch (err) {
        log.warn({ node, frame: frame.type, err: (err as Error).message }, "sending to agent failed");
        return false;
      }
    },

    /** A heartbeat: kept in memory and written in batches by flushHeartbeats (see store/db.ts). */
    heartbeat(node: string, at: number): void {
      heartbeats.set(node, at);
    },

    /** The node's last heartbeat not yet written, forgotten (its link is gone); undefined if none. */
    takeHeartbeat(node: string): number | undefined {
      const at = heartbeats.get(node);
      heartbeats.delete(node);
      return at;
    },

    /** Writes the heartbeats seen since the last flush, in one relaxed transaction. */
    flushHeartbeats(): void {
      if (heartbeats.size === 0) return;
      const seen = [...heartbeats];
      heartbeats.clear();
      store.tx(() => {
        for (const [name, at] of seen) store.nodes.update(name, { lastSeen: at });
      }, "relaxed");
    },
  };
}

export type AgentLinks = ReturnType<typeof createLinks>;
