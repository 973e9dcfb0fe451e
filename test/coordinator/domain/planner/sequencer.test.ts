import { CloseCodes, type MusterEvent } from "@muster/shared";
import t from "tap";
import {
  answerChecks,
  CLUSTER_TOKEN,
  eventsOf,
  FakeLink,
  finish,
  formInit,
  join,
  link,
  makeWorld,
  planOf,
  send,
  stateOf,
  type World,
} from "../../helpers/domain.ts";

// The whole domain service driven through CoordinatorService with fake agent links.

/** [start, end] event seq of each server's join, from node.join.started to succeeded/failed. */
function serverJoinWindows(events: MusterEvent[], servers: string[]): Map<string, [number, number]> {
  const windows = new Map<string, [number, number]>();
  for (const e of events) {
    if (!e.node || !servers.includes(e.node)) continue;
    if (e.type === "node.join.started") windows.set(e.node, [e.seq, Number.POSITIVE_INFINITY]);
    if (e.type === "node.join.succeeded" || e.type === "node.join.failed") windows.get(e.node)![1] = e.seq;
  }
  return windows;
}

/** Answers checks and finishes every plan handed out, pass after pass, until nothing moves. */
async function runToCompletion(w: World): Promise<void> {
  for (let round = 0; round < 50; round++) {
    await w.coord.settle();
    let moved = false;
    for (const view of w.coord.listNodes()) {
      const l = link(w, view.name);
      if (view.state === "checking" && l.last("checks.run")) {
        answerChecks(w, view.name);
        moved = true;
      } else if (view.state === "joining") {
        finish(w, view.name);
        moved = true;
      }
    }
    if (!moved) return;
  }
}

t.test("3 servers + 2 agents: servers join one at a time, the init first, agents after it", async (t) => {
  const w = makeWorld(t);
  const servers = ["s1", "s2", "s3"];
  for (const s of servers) join(w, s, "server");
  join(w, "a1", "agent");
  join(w, "a2", "agent");
  w.coord.tick();
  for (const n of [...servers, "a1", "a2"]) t.equal(stateOf(w, n), "checking", `${n} was asked for checks`);
  for (const n of [...servers, "a1", "a2"]) answerChecks(w, n);
  w.coord.tick();
  t.same(
    w.coord
      .listNodes()
      .filter((n) => n.state === "joining")
      .map((n) => n.name),
    ["s1"],
    "only the init server is released while all five wait",
  );
  t.same(w.coord.getCluster().joinInFlight?.node, "s1");

  const init = planOf(w, "s1");
  t.equal(init.init, true);
  t.equal(init.captureToken, true);
  t.notOk("server" in init.config, "the init server's config has no server:");
  t.notOk("token" in init.config, "no token before one exists");

  await runToCompletion(w);
  for (const n of [...servers, "a1", "a2"]) t.equal(stateOf(w, n), "joined", `${n} joined`);

  const events = eventsOf(w);
  const windows = [...serverJoinWindows(events, servers).entries()].sort((a, b) => a[1][0] - b[1][0]);
  t.same(
    windows.map(([n]) => n),
    servers,
    "servers joined in enrolment order",
  );
  for (let i = 1; i < windows.length; i++)
    t.ok(
      windows[i]![1][0] > windows[i - 1]![1][1],
      `${windows[i]![0]} started after ${windows[i - 1]![0]} finished`,
    );
  const captured = events.find((e) => e.type === "cluster.token.captured")!;
  const firstAgent = events.find((e) => e.type === "node.join.started" && e.node?.startsWith("a"))!;
  t.ok(captured.seq < firstAgent.seq, "no agent released before the token was captured");

  const joiner = planOf(w, "s2");
  t.equal(joiner.config["server"], `https://${w.coord.getNode("s1").address}:9345`);
  t.equal(joiner.config["token"], CLUSTER_TOKEN, "joiners get the captured token in their plan");
  t.equal(planOf(w, "a1").service, "rke2-agent");

  const cluster = w.coord.getCluster();
  t.equal(cluster.phase, "ready");
  t.same(cluster.servers, { total: 3, ready: 3, quorum: 2, faultTolerance: 1 });
  t.equal(cluster.joinInFlight, null);
  t.same(w.coord.getPlan().steps, []);

  const everything =
    JSON.stringify([events, w.coord.listNodes(), cluster, w.coord.getSpec()]) + w.logs.join("\n");
  t.notOk(everything.includes(CLUSTER_TOKEN.slice(-30)), "the token is in no event, view or log line");
  t.equal(w.coord.getSpec().rke2.tokenSet, true);

  // Rolling add into the formed cluster: sequenced exactly like the first nodes.
  join(w, "s4", "server");
  join(w, "a3", "agent");
  answerChecks(w, "s4");
  answerChecks(w, "a3");
  await w.coord.settle();
  t.same([stateOf(w, "s4"), stateOf(w, "a3")], ["joining", "joining"]);
  t.equal(planOf(w, "s4").init, false);
  t.equal(planOf(w, "s4").config["server"], joiner.config["server"]);
  t.equal(w.coord.getCluster().phase, "forming");
  await runToCompletion(w);
  t.equal(w.coord.getCluster().phase, "ready");
  t.same(w.coord.getCluster().servers, { total: 4, ready: 4, quorum: 3, faultTolerance: 1 });
});

t.test("agent messages are scrubbed of the cluster token before they are stored", async (t) => {
  const w = makeWorld(t);
  formInit(w);
  join(w, "s2", "server");
  answerChecks(w, "s2");
  await w.coord.settle();
  const plan = planOf(w, "s2");
  const password = CLUSTER_TOKEN.split(":").at(-1)!;
  send(w, "s2", {
    type: "phase",
    checksum: plan.checksum,
    phase: "install",
    status: "started",
    message: `token=${CLUSTER_TOKEN}`,
  });
  send(w, "s2", {
    type: "plan.done",
    checksum: plan.checksum,
    ok: false,
    message: `rke2 said: bad password ${password}`,
  });
  const text = JSON.stringify([eventsOf(w), w.coord.listNodes(), w.coord.getPlan(), w.coord.getCluster()]);
  t.notOk(text.includes(password), "neither the token nor its password is stored");
  t.match(w.coord.getNode("s2").message, "rke2 said: bad password [redacted]");
});

t.test("the lease survives a restart: no second release, the same plan re-sent", async (t) => {
  const w = makeWorld(t);
  formInit(w);
  join(w, "s2", "server");
  join(w, "s3", "server");
  answerChecks(w, "s2");
  answerChecks(w, "s3");
  await w.coord.settle();
  t.equal(stateOf(w, "s2"), "joining");
  const released = planOf(w, "s2");
  await w.coord.close();

  const again = w.reopen();
  t.same(again.coord.getCluster().joinInFlight?.node, "s2", "lease still held after restart");
  t.equal(again.coord.getNode("s2").connected, false, "no link survives a restart");
  const s3 = new FakeLink();
  again.links.set("s3", s3);
  again.coord.attach("s3", s3, null);
  await again.coord.settle();
  t.equal(stateOf(again, "s3"), "waiting", "s3 still waits");
  t.match(
    again.coord.getPlan().steps.find((s) => s.node === "s3")?.reason,
    "waiting for server s2 to finish joining",
  );

  const s2 = new FakeLink();
  again.links.set("s2", s2);
  again.coord.attach("s2", s2, released.checksum);
  t.same(
    planOf(again, "s2"),
    released,
    "the reconnecting joiner gets the identical plan (same checksum, token included)",
  );
  finish(again, "s2");
  await again.coord.settle();
  t.equal(stateOf(again, "s3"), "joining", "the next server goes once s2 passed the gate");
});

t.test("a failed server join blocks the cluster until retried", async (t) => {
  const w = makeWorld(t);
  for (const s of ["s1", "s2", "s3"]) join(w, s, "server");
  for (const s of ["s1", "s2", "s3"]) answerChecks(w, s);
  w.coord.tick();
  finish(w, "s1");
  await w.coord.settle();
  const plan = planOf(w, "s2");
  send(w, "s2", {
    type: "phase",
    checksum: plan.checksum,
    phase: "start",
    status: "failed",
    message: "etcdserver: too many learner members",
  });
  await w.coord.settle();
  t.equal(stateOf(w, "s2"), "failed");
  t.equal(w.coord.getCluster().phase, "blocked");
  t.equal(w.coord.getCluster().joinInFlight, null, "the failed join released the lease");
  t.equal(stateOf(w, "s3"), "waiting", "s3 not released");
  const step = w.coord.getPlan().steps.find((s) => s.node === "s3")!;
  t.equal(step.status, "blocked");
  t.match(step.reason, "server s2 failed to join: phase start failed: etcdserver: too many learner members");
  t.match(step.reason, "muster retry s2");
  t.ok(eventsOf(w).some((e) => e.type === "node.join.failed" && e.node === "s2"));

  t.throws(() => w.coord.retryNode("s3"), { code: "CONFLICT", message: /s3 is waiting/ });
  const retried = w.coord.retryNode("s2");
  t.equal(retried.state, "enrolled");
  t.equal(retried.message, undefined, "the failure message is cleared");
  w.coord.tick();
  t.equal(stateOf(w, "s2"), "checking", "a retried node is checked again");
  t.equal(stateOf(w, "s3"), "joining", "the retry unblocked server joins: s3, next in line, goes");
  t.equal(w.coord.getCluster().phase, "forming");
  answerChecks(w, "s2");
  w.coord.tick();
  t.equal(stateOf(w, "s2"), "waiting", "s2 waits for s3's join");
  finish(w, "s3");
  w.coord.tick();
  t.equal(stateOf(w, "s2"), "joining");
  t.equal(planOf(w, "s2").checksum, plan.checksum, "the same plan again, so the agent skips what it applied");
});

t.test("join timeouts fail the node (clock injected) and free the lease", async (t) => {
  const w = makeWorld(t, { spec: undefined });
  w.coord.updateSpec({ timeouts: { serverJoin: 60, agentJoin: 30 } });
  join(w, "s1", "server");
  answerChecks(w, "s1");
  w.coord.tick();
  w.clock.now += 59_000;
  w.coord.tick();
  t.equal(stateOf(w, "s1"), "joining");
  w.clock.now += 1_000;
  w.coord.tick();
  t.equal(stateOf(w, "s1"), "failed");
  t.match(w.coord.getNode("s1").message, "join timed out after 60s (spec.timeouts.serverJoin)");
  t.equal(w.coord.getCluster().joinInFlight, null);
});

t.test("check-failed nodes never get a plan; ignored checks pass", async (t) => {
  const w = makeWorld(t);
  w.coord.updateSpec({ checks: { ignore: ["swap"] } });
  join(w, "s1", "server");
  join(w, "s2", "server");
  answerChecks(w, "s1", [{ name: "cpu", status: "fail", message: "1 CPU, needs 2", fix: "add CPUs" }]);
  answerChecks(w, "s2", [{ name: "swap", status: "fail", message: "swap is on", fix: "swapoff -a" }]);
  w.coord.tick();
  t.equal(stateOf(w, "s1"), "check-failed");
  t.notOk(link(w, "s1").last("plan.apply"), "no plan for a node that failed checks");
  t.equal(stateOf(w, "s2"), "joining", "the ignored failure did not block, so s2 became the init");
  t.equal(w.coord.getNode("s2").checks?.[0]?.status, "warn");
  const failed = eventsOf(w).find((e) => e.type === "node.checks.failed")!;
  t.equal(failed.node, "s1");
  t.match(failed.message, "cpu: 1 CPU, needs 2 (fix: add CPUs)");
});

t.test("stale frames (another checksum, no such checks request) are ignored", async (t) => {
  const w = makeWorld(t);
  join(w, "s1", "server");
  send(w, "s1", { type: "checks.result", requestId: "not-the-request", results: [] });
  t.equal(stateOf(w, "s1"), "checking");
  answerChecks(w, "s1");
  w.coord.tick();
  const other = "0".repeat(64);
  send(w, "s1", { type: "plan.done", checksum: other, ok: true });
  send(w, "s1", { type: "phase", checksum: other, phase: "start", status: "failed" });
  send(w, "s1", { type: "token.captured", checksum: other, token: CLUSTER_TOKEN });
  t.equal(stateOf(w, "s1"), "joining");
  t.equal(w.coord.getSpec().rke2.tokenSet, false);
  t.ok(w.logs.some((l) => l.includes("stale frame ignored")));
});

t.test("token capture: only the init during its join, only once, never overwritten", async (t) => {
  const w = makeWorld(t);
  join(w, "s1", "server");
  answerChecks(w, "s1");
  w.coord.tick();
  const plan = planOf(w, "s1");
  send(w, "s1", { type: "token.captured", checksum: plan.checksum, token: "K10notvalid::server:x" });
  send(w, "s1", { type: "plan.done", checksum: plan.checksum, ok: true });
  t.equal(stateOf(w, "s1"), "failed", "success without the token is refused");
  t.match(w.coord.getNode("s1").message, "without sending the cluster token");

  w.coord.retryNode("s1");
  w.coord.tick();
  answerChecks(w, "s1");
  w.coord.tick();
  finish(w, "s1");
  t.equal(stateOf(w, "s1"), "joined");
  const other = `K10${"cd".repeat(32)}::server:${"0".repeat(32)}`;
  send(w, "s1", { type: "token.captured", checksum: plan.checksum, token: other });
  join(w, "s2", "server");
  answerChecks(w, "s2");
  await w.coord.settle();
  t.equal(planOf(w, "s2").config["token"], CLUSTER_TOKEN, "the first token stays");
  send(w, "s2", { type: "token.captured", checksum: planOf(w, "s2").checksum, token: other });
  const refused = eventsOf(w).filter((e) => e.type === "cluster.token.refused");
  t.equal(refused.length, 2, "the invalid token and the non-init node's token were refused");
  t.notOk(JSON.stringify(eventsOf(w)).includes("cdcdcd"), "a refused token is not echoed");
});

t.test("agents wait for the registration address to answer", async (t) => {
  const w = makeWorld(t);
  w.registration.healthy = false;
  join(w, "s1", "server");
  join(w, "a1", "agent");
  answerChecks(w, "s1");
  answerChecks(w, "a1");
  w.coord.tick();
  finish(w, "s1");
  await w.coord.settle();
  t.equal(stateOf(w, "a1"), "waiting");
  t.equal(w.coord.getCluster().phase, "degraded");
  w.registration.healthy = true;
  await w.coord.settle();
  t.equal(stateOf(w, "a1"), "joining");
});

t.test(
  "reconnects: a newer link replaces the old, a late detach of the old one changes nothing",
  async (t) => {
    const w = makeWorld(t);
    const { link: first } = join(w, "s1", "server");
    const second = new FakeLink();
    w.coord.attach("s1", second, null);
    t.same(first.closedWith?.code, CloseCodes.REPLACED);
    w.coord.detach("s1", first);
    t.equal(w.coord.getNode("s1").connected, true);
    w.coord.tick();
    t.ok(second.last("checks.run"), "checks requested again on the new link");
    w.coord.detach("s1", second);
    t.equal(w.coord.getNode("s1").connected, false);
    t.ok(eventsOf(w).some((e) => e.type === "node.disconnected"));
  },
);
