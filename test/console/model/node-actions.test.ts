import { nodeActions } from "@muster/console/model/node-actions";
import type { NodeView } from "@muster/shared";
import t from "tap";

const node = (state: NodeView["state"], message?: string): NodeView => ({
  name: "server-2",
  role: "server",
  init: false,
  state,
  address: "10.0.0.2",
  connected: true,
  enrolledAt: "2030-01-01T00:00:00Z",
  ...(message ? { message } : {}),
});

t.test("retry is offered on failed and check-failed nodes only, as POST .../retry", async (t) => {
  for (const s of ["enrolled", "checking", "waiting", "joining", "joined"] as const)
    t.same(nodeActions(node(s)), [], s);
  const [retry] = nodeActions(node("failed", "installer exited 1"));
  t.match(retry, {
    id: "retry",
    label: "Retry",
    danger: false,
    request: { method: "POST", path: "/v1/nodes/server-2/retry" },
  });
  t.match(retry!.description, /installer exited 1/);
  t.match(nodeActions(node("check-failed"))[0]!.description, /checks/);
});
