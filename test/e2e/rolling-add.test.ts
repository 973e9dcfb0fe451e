// Rolling add: a running 3 + 2 cluster grows by two servers and two agents bootstrapped into it at
// once; server joins stay serial over the whole history and every node becomes a Kubernetes node.
import t from "tap";
import {
  assertOneServerJoinAtATime,
  assertServerJoinsSerial,
  assertVoters,
  cannotRun,
  enrol,
  startCluster,
} from "./scenario.ts";

const FIRST = ["server-1", "server-2", "server-3", "agent-1", "agent-2"];
const SECOND = ["server-4", "server-5", "agent-3", "agent-4"];
const SERVERS = ["server-1", "server-2", "server-3", "server-4", "server-5"];

const reason = cannotRun();
t.test("servers and agents added to a running cluster join safely", { skip: reason ?? false }, async (t) => {
  const cluster = await startCluster(t, { servers: 5, agents: 4 });

  await enrol(t, cluster, FIRST);
  await cluster.waitForNodes(FIRST, "joined", 240_000);
  const formed = await cluster.cluster();
  t.equal(formed.phase, "ready", "first wave: cluster ready");
  t.same(formed.servers, { total: 3, ready: 3, quorum: 2, faultTolerance: 1 }, "first wave: 3 servers");
  const init = (await cluster.nodes()).find((n) => n.init)?.name;
  const lastSeqOfFirstWave = (await cluster.events()).at(-1)?.seq ?? 0;

  await enrol(t, cluster, SECOND);
  const nodes = await cluster.waitForNodes([...FIRST, ...SECOND], "joined", 240_000);
  t.equal(nodes.find((n) => n.init)?.name, init, "the init server did not change");
  t.equal(nodes.filter((n) => n.init).length, 1, "still exactly one init server");

  const events = await assertOneServerJoinAtATime(t, cluster);
  const secondWave = events.filter((e) => e.seq > lastSeqOfFirstWave && e.type === "node.join.started");
  t.same(
    secondWave.map((e) => e.node).sort(),
    ["server-4", "server-5"],
    "second wave: only the new servers joined (no first-wave server re-joined)",
  );
  t.equal(events.filter((e) => e.type === "node.join.failed").length, 0, "no server join failed");
  await assertServerJoinsSerial(t, cluster);
  await assertVoters(t, cluster, SERVERS);

  const view = await cluster.cluster();
  t.equal(view.phase, "ready", "cluster is ready");
  t.same(view.servers, { total: 5, ready: 5, quorum: 3, faultTolerance: 2 });
  t.same(view.agents, { total: 4, ready: 4 });
  t.equal(view.joinInFlight, null);
  t.same(
    await cluster.kubernetesNodes(cluster.world.node("server-1")),
    [...FIRST, ...SECOND].sort(),
    "every node is a Kubernetes node",
  );
});
