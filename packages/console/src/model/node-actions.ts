import type { NodeView } from "@muster/shared";

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

export function nodeActions(node: NodeView): NodeAction[] {
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
  return actions;
}
