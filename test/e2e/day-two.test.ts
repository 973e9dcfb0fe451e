// Day two in the lab, on one cluster of 3 servers + 1 agent (and a spare machine for a replacement):
// a server loses power (`lab kill`'s fault) and becomes `lost`, the cluster `degraded`, what-if warns
// that one more loss stops the control plane; removing a second server then is refused by the quorum
// guard and changes nothing; the lost one is removed with --force (etcd: 2 voters) and replaced (3
// voters). Steps that meet a busy apiserver or etcd are retried (the step shows its attempts).
import type { TestCluster } from "@muster/lab/cluster/test-cluster";
import type { OperationAccepted, OperationView, WhatIfView } from "@muster/shared";
import t from "tap";
import { cannotRun, enrol, startCluster } from "./scenario.ts";

const HEARTBEAT = 4;
const NODE_LOST = 5;
/** kube-controller-manager's node-monitor-grace-period (the simulator's too). */
const NODE_GRACE = 40;
const FIRST = ["server-1", "server-2", "server-3", "agent-1"];

const REMOVAL_ORDER = [
  "move etcd leadership off it",
  "cordon",
  "drain",
  "remove its etcd member",
  "wait until etcd no longer lists it",
  "stop RKE2",
  "uninstall RKE2",
  "delete its Node",
  "delete its node-password secret",
  "forget its credential",
];

async function operation(cluster: TestCluster, id: string): Promise<OperationView> {
  return cluster.api.get<OperationView>(`/v1/operations/${encodeURIComponent(id)}`);
}

async function untilEnded(cluster: TestCluster, id: string, timeoutMs = 180_000): Promise<OperationView> {
  return cluster.waitFor(
    `operation ${id} to end`,
    async () => {
      const op = await operation(cluster, id);
      return op.state === "succeeded" || op.state === "failed" ? op : undefined;
    },
    timeoutMs,
  );
}

async function voters(cluster: TestCluster, names: string[]): Promise<void> {
  await cluster.waitFor(
    `etcd to list exactly ${names.join(", ")} as voters`,
    async () => {
      const m = cluster.etcdMembers();
      const got = m
        .filter((x) => !x.isLearner)
        .map((x) => x.name)
        .sort();
      return m.length === names.length && JSON.stringify(got) === JSON.stringify([...names].sort())
        ? true
        : undefined;
    },
    60_000,
  );
}

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

  await t.test("a server that loses power becomes lost; degraded; what-if warns", async (t) => {
    const killed = await cluster.kill(cluster.world.node(victim));
    t.ok(killed.length > 0, `${victim}'s processes were killed (${killed.length})`);
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
    await cluster.waitForNodes(["server-4"], "joined", 180_000);
    await voters(cluster, [init, survivor, "server-4"]);
  });
});
