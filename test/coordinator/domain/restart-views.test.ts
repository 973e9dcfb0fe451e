import { ClusterSpecSchema } from "@muster/shared";
import t from "tap";
import {
  answerChecks,
  FakeLink,
  finish,
  join,
  makeWorld,
  planOf,
  send,
  stateOf,
  type World,
} from "../helpers/domain.ts";

// The coordinator plans and shows the cluster from in-memory node summaries (store/node-summaries.ts)
// written through with every change. A restart loads them from the database: whatever the running
// coordinator showed, the restarted one shows the same.

const spec = ClusterSpecSchema.parse({ name: "restart", agents: { concurrency: 1 } });

async function views(w: World) {
  await w.coord.settle();
  return {
    cluster: w.coord.getCluster(),
    plan: w.coord.getPlan(),
    nodes: w.coord.listNodes(),
    each: w.coord.listNodes().map((n) => w.coord.getNode(n.name)),
  };
}

t.test("after every kind of change, a restarted coordinator shows what the running one showed", async (t) => {
  const w = makeWorld(t, { spec });
  for (const s of ["s1", "s2", "s3"]) join(w, s, "server");
  for (const s of ["s1", "s2", "s3"]) answerChecks(w, s);
  w.coord.tick();
  finish(w, "s1");
  await w.coord.settle();
  t.equal(stateOf(w, "s2"), "joining", "s2 holds the lease");
  const s2 = planOf(w, "s2");
  send(w, "s2", { type: "phase", checksum: s2.checksum, phase: "install", status: "succeeded" });
  for (const a of ["a1", "a2", "a3", "a4"]) join(w, a, "agent");
  answerChecks(w, "a1", [{ name: "cpus", status: "fail", message: "1 CPU", fix: "add one" }]);
  answerChecks(w, "a2");
  answerChecks(w, "a3");
  await w.coord.settle();
  t.equal(stateOf(w, "a1"), "check-failed");
  t.equal(stateOf(w, "a2"), "joining");
  t.equal(stateOf(w, "a3"), "waiting", "waits for the one agent slot");
  t.equal(stateOf(w, "a4"), "checking", "never answered");
  // A refused action (the lease taken by s2) is rolled back alone and leaves nothing behind.
  send(w, "a2", { type: "plan.done", checksum: planOf(w, "a2").checksum, ok: false, message: "boom" });
  join(w, "a5", "agent");
  w.coord.retryNode("a1");
  // No link survives a restart: drop them all first, so both sides compare disconnected nodes.
  for (const [name, l] of w.links) w.coord.detach(name, l);
  const before = await views(w);
  t.equal(before.cluster.joinInFlight?.node, "s2");
  t.match(
    before.plan.steps.map((s) => s.node),
    ["s2", "s3", "a1", "a2", "a3", "a4", "a5"],
  );
  await w.coord.close();

  const again = w.reopen();
  t.same(await views(again), before, "cluster, plan and node views are identical after a restart");

  // And it goes on from there: s2 reconnects, gets the same plan and finishes; s3 is next.
  const l = new FakeLink();
  again.links.set("s2", l);
  again.coord.attach("s2", l, s2.checksum);
  t.same(planOf(again, "s2"), s2);
  finish(again, "s2");
  const s3 = new FakeLink();
  again.links.set("s3", s3);
  again.coord.attach("s3", s3, null);
  await again.coord.settle();
  t.equal(stateOf(again, "s3"), "joining");
});
