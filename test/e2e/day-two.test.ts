import type { OperationAccepted, OperationView, WhatIfView } from "@muster/shared";
import t from "tap";
import { FIRST, HEARTBEAT, NODE_GRACE, NODE_LOST, REMOVAL_ORDER, untilEnded, voters } from "./day-two-kit.ts";
import { cannotRun, enrol, startCluster } from "./scenario.ts";

const reason = cannotRun();
t.test("day two: loss, quorum guard, forced removal, replacement", { skip: reason ?? false }, async (t) => {
  const cluster = await startCluster(t, {
    servers: 3,
    agents: 1,
    spareServers: 1,
    spec: { timeouts: { serverJoin: 300, agentJoin: 300, heartbeat: HEARTBEAT, nodeLost: NODE_LOST } },
  });
  await enrol(t, cluster, FIRST);
  await cluster.waitForNodes(FIRST, "joined", 240_000);
  await cluster.waitFor("the cluster to be ready", async () =>
    (await cluster.cluster()).phase === "ready" ? true : undefined,
  );
  await voters(cluster, ["server-1", "server-2", "server-3"]);
  const init = (await cluster.nodes()).find((n) => n.init)!.name;
  // The lost one is a server that is not the init (the others register through the init).
  const victim = ["server-3", "server-2"].find((s) => s !== init)!;
  const survivor = ["server-1", "server-2", "server-3"].find((s) => s !== init && s !== victim)!;

  await t.test(
    "a server loses power; removing another at once is refused on etcd's own view of its health",
    async (t) => {
      const membersBefore = cluster.etcdMembers();
      const killed = await cluster.kill(cluster.world.node(victim));
      t.ok(killed.length > 0, `${victim}'s processes were killed (${killed.length})`);
      // No FIN left the dead machine: the coordinator still counts it joined and connected until the
      // heartbeat times out, so only etcd's own view, asked through a healthy server, can refuse now.
      const seen = (await cluster.nodes()).find((n) => n.name === victim)!;
      t.comment(`coordinator's view of ${victim} at the request: ${seen.state}, connected ${seen.connected}`);
      const r = await cluster.api.request<{ error: { code: string; message: string } }>(
        "DELETE",
        `/v1/nodes/${survivor}`,
      );
      t.equal(r.status, 409, "409", { body: r.body });
      t.equal(r.body.error.code, "QUORUM_GUARD");
      t.match(r.body.error.message, new RegExp(`removing ${survivor} would leave 1 healthy of 2 members`));
      t.same(cluster.etcdMembers(), membersBefore, "etcd members unchanged");
      t.equal((await cluster.nodes()).find((n) => n.name === survivor)!.state, "joined", "nothing changed");
    },
  );

  await t.test("the server without power becomes lost; degraded; what-if warns", async (t) => {
    // A deadline, not a timing assertion: the link is noticed dead within the heartbeat; its Node reads
    // not Ready after the node controller's grace period (40 s, as in RKE2), lost nodeLost after that.
    await cluster.waitForNodes([victim], "lost", (HEARTBEAT + NODE_GRACE + NODE_LOST + 90) * 1000);
    const view = await cluster.cluster();
    t.equal(view.phase, "degraded", "the cluster is degraded");
    t.ok(
      view.warnings.some((w) => w.includes(`server ${victim} is lost`)),
      "the cluster says why (the lost server)",
      { warnings: view.warnings },
    );
    const w = await cluster.api.get<WhatIfView>("/v1/whatif");
    t.ok(
      w.warnings.some((x) => x.startsWith("etcd has exactly quorum: one more loss stops the control plane")),
      "what-if: one more loss stops the control plane",
      { warnings: w.warnings },
    );
    for (const s of w.servers.filter((s) => s.node !== victim))
      t.same(s.ifLost, { quorumKept: false, toleranceLeft: 0 }, `what-if: losing ${s.node} now loses quorum`);
  });

  await t.test(
    "removing a second server with only 2 healthy: 409 QUORUM_GUARD, nothing changes",
    async (t) => {
      const before = (await cluster.nodes()).map((n) => [n.name, n.state]);
      const membersBefore = cluster.etcdMembers();
      const r = await cluster.api.request<{
        error: { code: string; message: string; details?: { path: string; value: unknown }[] };
      }>("DELETE", `/v1/nodes/${survivor}`);
      t.equal(r.status, 409, "409");
      t.equal(r.body.error.code, "QUORUM_GUARD");
      const numbers = Object.fromEntries((r.body.error.details ?? []).map((d) => [d.path, d.value]));
      t.same(numbers, { healthyNow: 2, healthyAfter: 1, quorum: 2 }, "with the numbers", {
        error: r.body.error,
      });
      t.same(
        (await cluster.nodes()).map((n) => [n.name, n.state]),
        before,
        "node states unchanged",
      );
      t.same(cluster.etcdMembers(), membersBefore, "etcd members unchanged");
      const ops = await cluster.api.get<{ operations: OperationView[] }>("/v1/operations");
      t.same(
        ops.operations.filter((o) => o.type === "remove"),
        [],
        "no removal operation was created",
      );
    },
  );

  await t.test("the lost server removed with --force: 2 voters; a replacement: 3 again", async (t) => {
    const accepted = await cluster.api.request<OperationAccepted>("DELETE", `/v1/nodes/${victim}?force=true`);
    t.equal(accepted.status, 202, "removal accepted", { body: accepted.body });
    const op = await untilEnded(cluster, accepted.body.operation.id);
    t.equal(op.state, "succeeded", "the forced removal succeeded", { op });
    t.same(
      op.steps.map((s) => s.name),
      REMOVAL_ORDER,
      "every step recorded, in order",
    );
    for (const name of ["stop RKE2", "uninstall RKE2"])
      t.equal(op.steps.find((s) => s.name === name)?.state, "skipped", `${name}: skipped (unreachable)`);
    await voters(cluster, [init, survivor]);
    t.equal((await cluster.nodes()).find((n) => n.name === victim)?.state, "removed", `${victim} is removed`);
    t.notOk(
      (await cluster.kubernetesNodes(cluster.world.node(init))).includes(victim),
      "its Node is deleted",
    );

    await enrol(t, cluster, ["server-4"]);
    // While server-4 joins (it holds the control-plane lease), a removal waits, and the answer says
    // for whom: what `muster remove` prints as "waiting: ..." while it asks again.
    await cluster.waitForNodes(["server-4"], "joining", 180_000);
    const refusals: string[] = [];
    const removal = await cluster.waitFor(
      "the removal of agent-1 to be accepted",
      async () => {
        const r = await cluster.api.request<
          OperationAccepted & { error?: { code: string; message: string } }
        >("DELETE", "/v1/nodes/agent-1");
        if (r.status === 202) return r.body;
        if (r.status === 409 && r.body.error?.code === "OPERATION_IN_FLIGHT")
          refusals.push(r.body.error.message);
        else throw new Error(`unexpected answer ${r.status}: ${JSON.stringify(r.body)}`);
        return undefined;
      },
      240_000,
    );
    t.ok(refusals.length > 0, "refused while server-4 joined");
    t.match(
      refusals[0],
      /control-plane lease is held: .*server-4/,
      "the refusal names the join holding the lease",
    );
    await cluster.waitForNodes(["server-4"], "joined", 180_000);
    await voters(cluster, [init, survivor, "server-4"]);
    const removed = await untilEnded(cluster, removal.operation.id);
    t.equal(removed.state, "succeeded", "agent-1 removed after the join", { removed });
    t.equal((await cluster.nodes()).find((n) => n.name === "agent-1")?.state, "removed");
  });
});
