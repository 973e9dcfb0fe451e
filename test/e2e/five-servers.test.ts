// 5 servers bootstrapped in the same instant: one init, then strictly one server join at a time, judged
// by the coordinator's event order and by etcd's own membership history (never two learners).
import type { PlanStep } from "@muster/shared";
import t from "tap";
import {
  assertOneServerJoinAtATime,
  assertServerJoinsSerial,
  assertVoters,
  cannotRun,
  enrol,
  startCluster,
} from "./scenario.ts";

const SERVERS = ["server-1", "server-2", "server-3", "server-4", "server-5"];

const reason = cannotRun();
t.test("5 servers enrolling at once join one at a time", { skip: reason ?? false }, async (t) => {
  const cluster = await startCluster(t, { servers: 5, agents: 0 });

  // While they join, record what /v1/plan says the waiting servers wait for.
  const waitReasons = new Set<string>();
  let watching = true;
  const planWatch = (async () => {
    while (watching) {
      const steps: PlanStep[] = await cluster.plan().catch(() => []);
      for (const s of steps) if (s.status === "waiting") waitReasons.add(s.reason);
      await new Promise((r) => setTimeout(r, 300));
    }
  })();
  t.teardown(() => {
    watching = false;
  });

  await enrol(t, cluster, SERVERS);
  const nodes = await cluster.waitForNodes(SERVERS, "joined", 300_000);
  watching = false;
  await planWatch;

  // The init server: the only join released before the first success.
  const inits = nodes.filter((n) => n.init);
  t.equal(inits.length, 1, "exactly one init server");
  const events = await assertOneServerJoinAtATime(t, cluster);
  const firstSuccess = events.findIndex((e) => e.type === "node.join.succeeded");
  const startedBefore = events.slice(0, firstSuccess).filter((e) => e.type === "node.join.started");
  t.same(
    startedBefore.map((e) => e.node),
    [inits[0]?.name],
    "exactly one node.join.started before the first node.join.succeeded: the init server",
  );
  t.equal(events[firstSuccess]?.node, inits[0]?.name, "the first join to succeed is the init server's");
  t.equal(events.filter((e) => e.type === "node.join.started").length, 5, "five server joins started");
  t.equal(events.filter((e) => e.type === "node.join.succeeded").length, 5, "five server joins succeeded");
  t.equal(events.filter((e) => e.type === "node.join.failed").length, 0, "no server join failed");

  await assertServerJoinsSerial(t, cluster);
  const learnerWindows = cluster.etcdJoinWindows().filter((w) => w.learnerAt !== null);
  t.comment(`etcd learner windows: ${JSON.stringify(learnerWindows)}`);
  t.ok(learnerWindows.length >= 1, "etcd's history shows joiners as learners (the sampler sees them)");
  await assertVoters(t, cluster, SERVERS);
  t.ok(
    [...waitReasons].some((r) => /waiting for server \S+ to finish joining/.test(r)),
    "/v1/plan told the waiting servers which server join they wait for",
    { reasons: [...waitReasons] },
  );

  const view = await cluster.cluster();
  t.equal(view.phase, "ready", "cluster is ready");
  t.same(
    view.servers,
    { total: 5, ready: 5, quorum: 3, faultTolerance: 2 },
    "quorum 3, tolerates 2 failures",
  );
  t.equal(view.joinInFlight, null, "no join in flight");
  t.same(
    await cluster.kubernetesNodes(cluster.world.node("server-1")),
    SERVERS,
    "every server is a Kubernetes node",
  );
});
