// Forming and growing a cluster in one world: 3 servers + 2 agents form a cluster from nothing (every
// node enrolled through the curl-bash one-liner, server joins never overlapping), then it grows by two
// servers and two agents bootstrapped into it at once; server joins stay serial over the whole history
// and every node becomes a Kubernetes node. (Forming used to have a world of its own: the first wave
// asserts all it asserted.)
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
t.test(
  "3 servers + 2 agents form a cluster, then servers and agents added to it join safely",
  { skip: reason ?? false },
  async (t) => {
    const cluster = await startCluster(t, { servers: 5, agents: 4 });

    await enrol(t, cluster, FIRST);
    await cluster.waitForNodes(FIRST, "joined", 240_000);
    const formed = await cluster.cluster();
    t.equal(formed.phase, "ready", "first wave: cluster ready");
    t.same(formed.servers, { total: 3, ready: 3, quorum: 2, faultTolerance: 1 }, "first wave: 3 servers");
    t.same(formed.agents, { total: 2, ready: 2 }, "first wave: 2 agents");
    t.equal(formed.joinInFlight, null, "first wave: no join in flight");
    await assertVoters(t, cluster, ["server-1", "server-2", "server-3"]);
    await assertServerJoinsSerial(t, cluster);
    t.same(
      await cluster.kubernetesNodes(cluster.world.node("server-1")),
      [...FIRST].sort(),
      "first wave: every node is a Kubernetes node",
    );
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

    // The init server captured the token; it never shows in the API.
    const all = await cluster.events();
    t.ok(
      all.some((e) => e.type === "cluster.token.captured"),
      "token captured from the init server",
    );
    t.notMatch(JSON.stringify(all), /K10[0-9a-f]{64}/, "no token in events");
  },
);
