import { nodeActions, removeVerdict } from "@muster/console/model/node-actions";
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
    t.notOk(
      nodeActions(node(s)).some((a) => a.id === "retry"),
      s,
    );
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

t.test("remove is offered on joined, lost and failed nodes, with the quorum guard's verdict", async (t) => {
  for (const s of ["enrolled", "checking", "waiting", "joining", "removing", "removed"] as const)
    t.notOk(
      nodeActions(node(s)).some((a) => a.id === "remove"),
      `${s}: no remove`,
    );
  const whatif = {
    servers: [
      { node: "server-2", ifLost: { quorumKept: true, toleranceLeft: 0 } },
      { node: "server-3", ifLost: { quorumKept: false, toleranceLeft: 0 } },
    ],
    warnings: [],
  };
  const remove = nodeActions(node("joined"), whatif).find((a) => a.id === "remove");
  t.match(remove, {
    label: "Remove",
    title: "Remove server-2?",
    danger: true,
    request: { method: "DELETE", path: "/v1/nodes/server-2" },
  });
  t.match(remove!.description, "Quorum guard: without server-2, quorum kept; no further server may be lost.");
  const lost = nodeActions(node("lost"), whatif).find((a) => a.id === "remove");
  t.equal(lost!.request.path, "/v1/nodes/server-2?force=true", "a lost node is removed with force");
  t.match(lost!.description, /its agent is gone/);
  const breaking = removeVerdict({ ...node("joined"), name: "server-3" }, whatif);
  t.match(
    breaking,
    /quorum lost: etcd would stop accepting writes\. The coordinator will refuse this remove\./,
  );
  t.match(
    removeVerdict(node("joined"), null),
    /checks quorum first and refuses/,
    "no what-if: says the guard runs",
  );
  t.match(removeVerdict({ ...node("joined"), role: "agent" }, whatif), /quorum is not affected/);
  const both = nodeActions(node("failed"), whatif).map((a) => a.id);
  t.same(both, ["retry", "remove"], "a failed node can be retried or removed");
});
