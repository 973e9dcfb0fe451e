import t from "tap";
import { formSim, killAgent, reconnect } from "../../helpers/day-two.ts";
import { eventsOf, makeWorld } from "../../helpers/domain.ts";

const LOST_MS = 60_000;

t.test("a server whose agent is gone and whose Node is not Ready becomes lost after nodeLost", async (t) => {
  const w = makeWorld(t);
  const sim = await formSim(w, ["s1", "s2", "s3"], ["a1"]);
  await w.coord.checkLoss(); // the first check, as the coordinator's timer makes it once started
  t.equal(w.coord.getCluster().phase, "ready");
  killAgent(w, sim, "s3");
  sim.kube.get("s3")!.ready = "Unknown";
  w.clock.now += LOST_MS - 1000;
  await w.coord.checkLoss();
  t.equal(w.coord.getNode("s3").state, "joined", "not before timeouts.nodeLost");
  t.notOk(
    sim.log.some((l) => l.endsWith("kube.nodes")),
    "nobody is asked before the time is up",
  );
  w.clock.now += 2000;
  await w.coord.checkLoss();
  const s3 = w.coord.getNode("s3");
  t.equal(s3.state, "lost");
  t.match(s3.message, /agent gone since .*, Node Ready=Unknown/);
  t.ok(
    sim.log.some((l) => /^s[12] kube\.nodes$/.test(l)),
    "a healthy server's agent was asked",
  );
  const cluster = w.coord.getCluster();
  t.equal(cluster.phase, "degraded");
  t.same(cluster.servers, { total: 3, ready: 2, quorum: 2, faultTolerance: 0 });
  t.ok(cluster.warnings.some((w) => /server s3 is lost .*muster remove s3 --force/.test(w)));
  const whatIf = w.coord.getWhatIf();
  t.match(whatIf.warnings.join("\n"), /etcd has exactly quorum: one more loss stops the control plane/);
  t.same(
    whatIf.servers.map((s) => [s.node, s.ifLost.quorumKept]),
    [
      ["s1", false],
      ["s2", false],
      ["s3", true],
    ],
  );
  t.ok(eventsOf(w).some((e) => e.type === "node.lost" && e.node === "s3"));

  reconnect(w, sim, "s3");
  t.equal(w.coord.getNode("s3").state, "joined", "its agent came back: joined again");
  t.ok(eventsOf(w).some((e) => e.type === "node.recovered" && e.node === "s3"));
});

t.test("an agent gone while its Node stays Ready is only disconnected", async (t) => {
  const w = makeWorld(t);
  const sim = await formSim(w, ["s1"], ["a1"]);
  await w.coord.checkLoss();
  killAgent(w, sim, "a1");
  w.clock.now += LOST_MS + 1000;
  await w.coord.checkLoss();
  t.equal(w.coord.getNode("a1").state, "joined");
  t.ok(w.coord.getCluster().warnings.includes("agent a1 is disconnected"));
  sim.kube.get("a1")!.ready = "False";
  await w.coord.checkLoss();
  t.equal(w.coord.getNode("a1").state, "joined", "a Ready answer holds for a while");
  w.clock.now += 11_000;
  await w.coord.checkLoss();
  t.equal(w.coord.getNode("a1").state, "lost", "asked again later: NotReady, lost");
});

t.test(
  "no healthy server to ask is no evidence of health; a restart does not count as gone time",
  async (t) => {
    const w = makeWorld(t);
    const sim = await formSim(w, ["s1"]);
    await w.coord.checkLoss();
    killAgent(w, sim, "s1");
    w.clock.now += LOST_MS + 1000;
    await w.coord.checkLoss();
    t.equal(w.coord.getNode("s1").state, "lost");
    t.match(w.coord.getNode("s1").message, /no healthy server to ask/);

    const w2 = makeWorld(t);
    await formSim(w2, ["s1", "s2", "s3"]);
    await w2.coord.close();
    const restarted = w2.reopen();
    restarted.clock.now += LOST_MS * 10; // every node was last seen long ago
    await restarted.coord.checkLoss();
    t.equal(restarted.coord.getNode("s2").state, "joined", "gone time counts from the coordinator's start");
    restarted.clock.now += LOST_MS + 1000;
    await restarted.coord.checkLoss();
    t.equal(restarted.coord.getNode("s2").state, "lost", "no agent came back within nodeLost: lost");
  },
);
