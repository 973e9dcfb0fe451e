import t from "tap";
import { formSim, joinSim, SimLink, until } from "../../helpers/day-two.ts";
import { answerChecks, eventsOf, finish, makeWorld, nodeFacts } from "../../helpers/domain.ts";

// A removed server's machine reinstalled with its old data dir enrols again under its name: the
// cleanup (stale member, server/db, stale node-password secret) runs under the lease, then it joins.

const MID = "5e".repeat(16);

t.test("a removed server reinstalled with its old data dir is cleaned and rejoins", async (t) => {
  const w = makeWorld(t);
  const sim = await formSim(w, ["s1", "s2"]);
  await joinSim(w, sim, "s3", "server", MID);
  const removal = (await w.coord.removeNode("s3", false)).operation.id;
  await until(() => w.coord.getOperation(removal).state !== "running", 5000, "the removal");
  t.equal(w.coord.getNode("s3").state, "removed");

  // The reinstalled machine: RKE2 back with the old member's data, a stale member and secret.
  sim.rke2.set("s3", { running: true, installed: true, db: true });
  sim.members.push({ id: "dead", name: "s3-0badf00d", isLearner: false });
  sim.passwords.add("s3");
  const { token } = w.coord.createJoinToken({ role: "server" });
  const { node } = w.coord.enrol(
    {
      type: "enrol",
      joinToken: token,
      facts: { ...nodeFacts("s3", 77), machineId: MID },
      agentVersion: "0.1.0",
    },
    "10.9.9.9",
  );
  t.equal(node, "s3");
  t.match(w.coord.getNode("s3"), { state: "removed", phase: "rejoin pending" });
  const link = new SimLink(w, sim, "s3");
  w.links.set("s3", link);
  w.coord.attach("s3", link, null);
  w.coord.tick();
  t.equal(link.all("checks.run").length, 0, "no checks before the cleanup");

  w.coord.startRejoins();
  const op = w.coord.listOperations().find((o) => o.type === "rejoin" && o.node === "s3");
  t.ok(op, "a rejoin operation under the lease");
  await until(() => w.coord.getOperation(op!.id).state !== "running", 5000, "the cleanup");
  const done = w.coord.getOperation(op!.id);
  t.equal(done.state, "succeeded", done.reason ?? "");
  t.same(
    done.steps.map((s) => [s.name, s.state]),
    [
      ["remove its stale etcd member", "succeeded"],
      ["wipe its old server/db", "succeeded"],
      ["delete its stale Node and node-password secret", "succeeded"],
      ["release it to join", "succeeded"],
    ],
  );
  t.notOk(
    sim.members.some((m) => m.name.startsWith("s3")),
    "stale member removed",
  );
  t.notOk(sim.rke2.get("s3")!.db, "server/db wiped");
  t.notOk(sim.passwords.has("s3"), "stale node-password secret deleted");
  t.ok(sim.log.indexOf("s3 rke2.stop") < sim.log.indexOf("s3 rke2.wipe-db"), "stopped before the wipe");

  w.coord.tick();
  answerChecks(w, "s3");
  await w.coord.settle();
  t.equal(w.coord.getNode("s3").state, "joining", "joins under the lease like any server");
  finish(w, "s3");
  t.equal(w.coord.getNode("s3").state, "joined");
  t.ok(eventsOf(w).some((e) => e.type === "node.rejoin.cleanup" && /joins again/.test(e.message)));
});
