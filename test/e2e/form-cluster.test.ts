// 3 servers + 2 agents from nothing, every node enrolled through the curl-bash one-liner.
import t from "tap";
import { assertServerJoinsSerial, assertVoters, cannotRun, enrol, startCluster } from "./scenario.ts";

const reason = cannotRun();
t.test(
  "3 servers + 2 agents form a cluster, server joins never overlap",
  { skip: reason ?? false },
  async (t) => {
    const cluster = await startCluster(t, { servers: 3, agents: 2 });
    const names = cluster.world.nodes.map((n) => n.name);
    await enrol(t, cluster, names);
    await cluster.waitForNodes(names, "joined", 240_000);

    await assertVoters(t, cluster, ["server-1", "server-2", "server-3"]);
    await assertServerJoinsSerial(t, cluster);

    const view = await cluster.cluster();
    t.equal(view.phase, "ready");
    t.same(view.servers, { total: 3, ready: 3, quorum: 2, faultTolerance: 1 });
    t.same(view.agents, { total: 2, ready: 2 });
    t.equal(view.joinInFlight, null);

    // Every node registered with Kubernetes (the simulator's apiserver on the registration address).
    const s1 = cluster.world.node("server-1");
    const nodeList = await s1.exec("curl", ["-fsSk", `https://${s1.ip}:6443/api/v1/nodes`]);
    const registered = (JSON.parse(nodeList.stdout) as { items: { metadata: { name: string } }[] }).items
      .map((i) => i.metadata.name)
      .sort();
    t.same(registered, [...names].sort(), "every node is a Kubernetes node");

    // The init server captured the token; it never shows in the API.
    const events = await cluster.events();
    t.ok(
      events.some((e) => e.type === "cluster.token.captured"),
      "token captured from the init server",
    );
    t.notMatch(JSON.stringify(events), /K10[0-9a-f]{64}/, "no token in events");
  },
);
