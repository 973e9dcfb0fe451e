import type { NodeView } from "@muster/shared";
import { type WhatIfView, whatIfVerdict } from "./whatif.ts";

// What an operator can do to a node from the node table, each behind a confirmation. The dialog
// sends `request` and shows the coordinator's refusal (message and details, verbatim): the place
// where "Remove" (DELETE /v1/nodes/:name, refused 409 QUORUM_GUARD with details) and "Upgrade" plug
// in when the coordinator has those routes: add an entry here, the table and dialog need no change.

export interface NodeAction {
  id: string;
  label: string;
  /** Dialog title and text. */
  title: string;
  description: string;
  confirmLabel: string;
  danger: boolean;
  request: { method: "POST" | "DELETE"; path: string };
}

/** States a node can be removed from (DELETE /v1/nodes/:name); lost ones with force=true. */
const REMOVABLE = new Set<NodeView["state"]>(["joined", "lost", "failed", "check-failed"]);

/** The quorum guard's verdict on removing `node`, in words, from the coordinator's what-if. */
export function removeVerdict(node: NodeView, whatif: WhatIfView | null | undefined): string {
  if (node.role !== "server") return "An agent carries no etcd member: quorum is not affected.";
  const ifLost = whatif?.servers.find((s) => s.node === node.name)?.ifLost;
  if (!ifLost) return "The coordinator checks quorum first and refuses the remove if it would break it.";
  const verdict = `Quorum guard: without ${node.name}, ${whatIfVerdict(ifLost)}.`;
  return ifLost.quorumKept ? verdict : `${verdict} The coordinator will refuse this remove.`;
}

export function nodeActions(node: NodeView, whatif?: WhatIfView | null): NodeAction[] {
  const actions: NodeAction[] = [];
  const path = `/v1/nodes/${encodeURIComponent(node.name)}`;
  if (node.state === "failed" || node.state === "check-failed") {
    actions.push({
      id: "retry",
      label: "Retry",
      title: `Retry ${node.name}?`,
      description:
        node.state === "failed"
          ? `${node.role} ${node.name} failed to join${node.message ? ` (${node.message})` : ""}. Retrying re-queues it: it runs its checks again and waits for its turn to join.`
          : `${node.role} ${node.name} failed its host checks. Fix them first; retrying runs the checks again.`,
      confirmLabel: "Retry",
      danger: false,
      request: { method: "POST", path: `${path}/retry` },
    });
  }
  if (REMOVABLE.has(node.state)) {
    const force = node.state === "lost";
    actions.push({
      id: "remove",
      label: "Remove",
      title: `Remove ${node.name}?`,
      description: `${node.role} ${node.name} leaves the cluster${force ? " (its agent is gone: force, skipping the steps on the node itself)" : ""}. ${removeVerdict(node, whatif)}`,
      confirmLabel: "Remove",
      danger: true,
      request: { method: "DELETE", path: force ? `${path}?force=true` : path },
    });
  }
  return actions;
}
