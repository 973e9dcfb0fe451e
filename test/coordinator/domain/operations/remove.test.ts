import { ClusterSpecSchema, MusterError } from "@muster/shared";
import t, { type Test } from "tap";
import {
  formSim,
  joinSim,
  killAgent,
  newSim,
  reconnect,
  type SimCluster,
  until,
} from "../../helpers/day-two.ts";
import { answerChecks, eventsOf, join, makeWorld, type World } from "../../helpers/domain.ts";

// Removal through the real coordinator domain, its operations runner and task dispatcher, against a
// simulated cluster answering the agents' tasks (helpers/day-two.ts).

async function finished(w: World, id: string) {
  await until(() => w.coord.getOperation(id).state !== "running", 5000, `operation ${id}`);
  return w.coord.getOperation(id);
}

async function refusal(fn: () => unknown): Promise<MusterError> {
  try {
    await fn();
  } catch (err) {
    if (err instanceof MusterError) return err;
    throw err;
  }
  throw new Error("not refused");
}

const memberNames = (sim: SimCluster) => sim.members.map((m) => m.name).sort();

t.test(
  "a lost server: refused without --force, removed with it; 2 voters; a replacement makes 3",
  async (t) => {
    const w = makeWorld(t);
    const sim = await formSim(w, ["s1", "s2", "s3"], ["a1"]);
    await w.coord.checkLoss();
    killAgent(w, sim, "s3");
    sim.kube.get("s3")!.ready = "Unknown";
    w.clock.now += 61_000;
    await w.coord.checkLoss();
    t.equal(w.coord.getNode("s3").state, "lost");

    const unforced = await refusal(() => w.coord.removeNode("s3", false));
    t.equal(unforced.code, "CONFLICT");
    t.match(unforced.message, /node s3 cannot be removed: its agent is not connected .*--force/);

    const { operation } = await w.coord.removeNode("s3", true, "10.0.0.1");
    t.match(operation, { type: "remove", node: "s3", state: "running" });
    t.equal(w.coord.getNode("s3").state, "removing");
    const done = await finished(w, operation.id);
    t.equal(done.state, "succeeded", done.reason ?? "");
    t.same(
      done.steps.map((s) => [s.name, s.state]),
      [
        ["move etcd leadership off it", "skipped"],
        ["cordon", "succeeded"],
        ["drain", "succeeded"],
        ["remove its etcd member", "succeeded"],
        ["wait until etcd no longer lists it", "succeeded"],
        ["stop RKE2", "skipped"],
        ["uninstall RKE2", "skipped"],
        ["delete its Node", "succeeded"],
        ["delete its node-password secret", "succeeded"],
        ["forget its credential", "succeeded"],
      ],
    );
    t.same(memberNames(sim), ["s1", "s2"], "etcd has 2 voters");
    t.notOk(sim.kube.has("s3"));
    t.notOk(sim.passwords.has("s3"));
    t.notOk(
      sim.log.some((l) => l.startsWith("s3 ")),
      "nothing was asked of the unreachable node",
    );
    t.ok(
      sim.log.includes("s1 kube.cordon s3") || sim.log.includes("s2 kube.cordon s3"),
      "through a healthy server",
    );
    const order = [
      "kube.cordon",
      "kube.drain",
      "kube.annotate",
      "kube.delete-node",
      "kube.delete-node-password",
    ];
    const seen = sim.log.filter((l) => order.some((k) => l.includes(` ${k} s3`))).map((l) => l.split(" ")[1]);
    t.same(seen, order, "cordon, drain, member, Node, secret: in that order");
    t.equal(w.coord.getNode("s3").state, "removed");
    t.equal(w.coord.getCluster().phase, "ready");
    t.same(w.coord.getCluster().servers, { total: 2, ready: 2, quorum: 2, faultTolerance: 0 });
    t.ok(eventsOf(w).some((e) => e.type === "node.removed" && e.node === "s3"));
    t.equal((await refusal(() => w.coord.removeNode("s3", true))).code, "CONFLICT", "already removed");

    await joinSim(w, sim, "s4", "server");
    t.same(memberNames(sim), ["s1", "s2", "s4"], "a replacement: 3 voters again");
    t.same(w.coord.getCluster().servers, { total: 3, ready: 3, quorum: 2, faultTolerance: 1 });
  },
);

t.test(
  "only 2 of 3 healthy: removing a healthy server is refused with the numbers, nothing changes",
  async (t) => {
    const w = makeWorld(t);
    const sim = await formSim(w, ["s1", "s2", "s3"]);
    killAgent(w, sim, "s3");
    const before = JSON.stringify([w.coord.listNodes(), w.coord.listOperations(), sim.log]);
    const err = await refusal(() => w.coord.removeNode("s1", false));
    t.equal(err.code, "QUORUM_GUARD");
    t.equal(err.status, 409);
    t.match(err.message, /Refused: removing s1 would leave 1 healthy of 2 members, below quorum 2/);
    t.same(
      err.details?.map((d) => [d.path, d.value]),
      [
        ["healthyNow", 2],
        ["healthyAfter", 1],
        ["quorum", 2],
      ],
    );
    t.equal(
      JSON.stringify([w.coord.listNodes(), w.coord.listOperations(), sim.log]),
      before,
      "nothing changed",
    );
  },
);

t.test(
  "a server that died a moment ago, still joined to the coordinator: etcd's own view refuses",
  async (t) => {
    const w = makeWorld(t);
    const sim = await formSim(w, ["s1", "s2", "s3"]);
    // s3's machine died: neither its etcd member nor its agent answers, and its link has not timed
    // out yet. The guard asks through s2 and s3 at once; s2's answer decides.
    sim.etcdDown.add("s3");
    sim.silent.add("s3");
    t.equal(w.coord.getNode("s3").state, "joined");
    t.ok(w.coord.getNode("s3").connected, "the coordinator still counts it healthy");
    const before = JSON.stringify([w.coord.listNodes(), w.coord.listOperations()]);
    const err = await refusal(() => w.coord.removeNode("s1", false));
    t.equal(err.code, "QUORUM_GUARD");
    t.match(
      err.message,
      /Refused: removing s1 would leave 1 healthy of 2 members, below quorum 2, as etcd itself sees it through s2 \(not answering: s3\)/,
    );
    t.same(
      err.details?.map((d) => [d.path, d.value]),
      [
        ["healthyNow", 2],
        ["healthyAfter", 1],
        ["quorum", 2],
      ],
    );
    t.equal(JSON.stringify([w.coord.listNodes(), w.coord.listOperations()]), before, "nothing changed");
    t.same(memberNames(sim), ["s1", "s2", "s3"]);

    // Negative control: the coordinator's picture alone would have let it through.
    sim.etcdDown.clear();
    sim.silent.clear();
    const { operation } = await w.coord.removeNode("s1", false);
    t.equal((await finished(w, operation.id)).state, "succeeded", "with s3 answering, s1 goes");
  },
);

t.test("the dead member itself may go; when etcd cannot be asked, nothing is removed", async (t) => {
  const w = makeWorld(t);
  const sim = await formSim(w, ["s1", "s2", "s3"]);
  for (const s of ["s1", "s2"])
    sim.failures.set(`${s} etcd.status`, "could not report its status: connect ECONNREFUSED");
  const err = await refusal(() => w.coord.removeNode("s3", false));
  t.equal(err.code, "QUORUM_GUARD");
  t.match(
    err.message,
    /etcd's member health could not be read through any other server \(s1: .*ECONNREFUSED; s2: .*ECONNREFUSED\)/,
  );
  t.equal(w.coord.getNode("s3").state, "joined", "nothing changed");

  sim.failures.clear();
  sim.etcdDown.add("s3");
  const { operation } = await w.coord.removeNode("s3", false);
  const done = await finished(w, operation.id);
  t.equal(done.state, "succeeded", done.reason ?? "removing the unhealthy member keeps quorum");
  t.same(memberNames(sim), ["s1", "s2"]);
});

t.test("removing the etcd leader moves leadership first; an agent's removal has no etcd steps", async (t) => {
  const w = makeWorld(t);
  const sim = await formSim(w, ["s1", "s2", "s3"], ["a1"]);
  const leader = sim.members.find((m) => m.name === "s1")!.id;
  t.equal(sim.leaderId, leader);
  const op = await finished(w, (await w.coord.removeNode("s1", false)).operation.id);
  t.equal(op.state, "succeeded", op.reason ?? "");
  t.match(op.steps[0], {
    name: "move etcd leadership off it",
    state: "succeeded",
    message: /moved to s[23]/,
  });
  t.not(sim.leaderId, leader);
  t.ok(
    sim.log.includes("s1 rke2.stop") && sim.log.includes("s1 rke2.uninstall"),
    "reachable: stopped, uninstalled",
  );
  t.notOk(sim.rke2.get("s1")!.installed);
  await w.coord.settle(); // the registration address (the init server's) is probed again
  t.equal(w.coord.getCluster().phase, "ready", "the init server's removal leaves a ready cluster");
  t.ok(
    ["s2", "s3"].some((n) => w.coord.getNode(n).init),
    "the init flag moved to a healthy server",
  );

  const agent = await finished(w, (await w.coord.removeNode("a1", false)).operation.id);
  t.equal(agent.state, "succeeded", agent.reason ?? "");
  t.same(
    agent.steps.map((s) => s.name),
    [
      "cordon",
      "drain",
      "stop RKE2",
      "uninstall RKE2",
      "delete its Node",
      "delete its node-password secret",
      "forget its credential",
    ],
  );
  t.equal(w.coord.getNode("a1").state, "removed");
  t.equal((await refusal(() => w.coord.removeNode("nope", false))).code, "NOT_FOUND");
});

t.test("a removal requested while a server joins is refused with the lease's holder", async (t) => {
  const w = makeWorld(t);
  await formSim(w, ["s1", "s2", "s3"]);
  join(w, "s4", "server");
  answerChecks(w, "s4");
  await w.coord.settle();
  t.equal(w.coord.getNode("s4").state, "joining");
  const err = await refusal(() => w.coord.removeNode("s2", false));
  t.equal(err.code, "OPERATION_IN_FLIGHT");
  t.match(err.message, /server s4 is joining/);
  t.equal(w.coord.getNode("s2").state, "joined");
});

t.test("a coordinator killed mid-removal resumes at the step it reached and completes", async (t) => {
  const w = makeWorld(t);
  const sim = await formSim(w, ["s1", "s2", "s3"]);
  sim.holdKinds.add("s1 kube.drain").add("s2 kube.drain");
  const { operation } = await w.coord.removeNode("s3", false);
  await until(() => sim.held.some((h) => h.task.kind === "kube.drain"), 5000, "the drain to be sent");
  t.equal(w.coord.getOperation(operation.id).steps[2]!.state, "running");
  await w.coord.close(); // its steps stop at a safe point; nothing after the drain ran
  t.notOk(sim.log.some((l) => l.includes("kube.annotate")));

  sim.holdKinds.clear();
  const again = w.reopen();
  for (const n of ["s1", "s2", "s3"]) {
    again.links.delete(n);
    reconnect(again, sim, n);
  }
  again.coord.start();
  const op = await finished(again, operation.id);
  t.equal(op.state, "succeeded", op.reason ?? "");
  t.equal(op.steps[1]!.state, "succeeded", "the cordon was not redone");
  t.equal(sim.log.filter((l) => l.endsWith("kube.cordon s3")).length, 1, "cordon ran once");
  t.same(memberNames(sim), ["s1", "s2"]);
  t.equal(again.coord.getNode("s3").state, "removed");
});

// With the VIP kube-vip runs: removal's stop step is the VIP-safe stop (stopServerSafely), and a VIP
// that stays on the stopped server (kube-vip#1786) fails the step with the message.
const vipSpec = ClusterSpecSchema.parse({ vip: { address: "10.0.0.100", interface: "eth0" } });

/** Three servers formed with the VIP (s1's kube-vip holds it, so the VIP gate opens), and the holder. */
async function withVip(t: Test, holder: string) {
  const w = makeWorld(t, { spec: vipSpec });
  const sim = newSim();
  sim.vip.holder = "s1";
  for (const s of ["s1", "s2", "s3"]) await joinSim(w, sim, s, "server");
  sim.vip.holder = holder;
  return Object.assign(w, { sim });
}

t.test("removing the VIP holder: the stop step verifies the VIP moved to another server", async (t) => {
  const w = await withVip(t, "s3");
  const sim = w.sim;
  const { operation } = await w.coord.removeNode("s3", false, "10.0.0.1");
  const done = await finished(w, operation.id);
  t.equal(done.state, "succeeded", done.reason ?? "");
  const stop = done.steps.find((s) => s.name === "stop RKE2");
  t.equal(stop?.state, "succeeded");
  t.match(stop?.message, /rke2-server stopped; VIP moved to /);
  t.ok(sim.log.includes("s3 rke2.stop"), "the holder was stopped");
  t.ok(sim.log.includes("s3 vip.release"), "its stale VIP was deleted if left");
  t.ok(
    sim.log.some((l) => /^s[12] vip\.observe$/.test(l)),
    "the other servers were asked who answers for the VIP",
  );
  t.not(sim.vip.holder, "s3");
});

t.test(
  "removing the VIP holder: a VIP that does not move fails the stop step, and removal stops",
  async (t) => {
    const w = await withVip(t, "s3");
    const sim = w.sim;
    sim.vip.stuck = true;
    const { operation } = await w.coord.removeNode("s3", false, "10.0.0.1");
    // verifyVipMoved waits 3 x lease + 15 s on the coordinator's clock: let that time pass.
    const deadline = Date.now() + 30_000;
    while (w.coord.getOperation(operation.id).state === "running") {
      if (Date.now() > deadline) throw new Error("the removal did not end");
      w.clock.now += 2000;
      await new Promise((r) => setTimeout(r, 5));
    }
    const done = w.coord.getOperation(operation.id);
    t.equal(done.state, "failed");
    const stop = done.steps.find((s) => s.name === "stop RKE2");
    t.equal(stop?.state, "failed");
    t.match(stop?.message ?? done.reason, /the VIP 10\.0\.0\.100 did not move off s3 within 30 s/);
    t.match(done.reason ?? "", /did not move off s3/);
    t.notOk(sim.log.includes("s3 rke2.uninstall"), "no later step ran");
  },
);
