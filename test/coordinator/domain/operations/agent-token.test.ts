import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { ClusterSpecSchema, MusterError, parseRke2Token } from "@muster/shared";
import t from "tap";
import { formSim, joinSim, newSim, reconnect, type SimCluster, until } from "../../helpers/day-two.ts";
import { CLUSTER_TOKEN, eventsOf, makeWorld, planOf, type World } from "../../helpers/domain.ts";

// The agent-token migration (docs/operations.md#agent-token-migration) through the real coordinator
// domain, its operations runner and task dispatcher, against the simulated cluster of
// helpers/day-two.ts: order, lease, resume after a restart, a refused start.

const SERVERS = ["s1", "s2", "s3"];

/** A cluster formed as the version before the agent token formed it (agent-token mode legacy). */
async function legacyCluster(t: Parameters<typeof makeWorld>[0], agents = ["a1", "a2"]) {
  const first = makeWorld(t);
  await first.coord.close();
  const db = new DatabaseSync(join(first.stateDir, "muster.db"));
  db.prepare("UPDATE meta SET value = 'legacy' WHERE key = 'agent-token-mode'").run();
  db.close();
  const w = first.reopen();
  const sim = await formSim(w, SERVERS, agents);
  return { w, sim };
}

async function finished(w: World, id: string) {
  await until(() => w.coord.getOperation(id).state !== "running", 10_000, `operation ${id}`);
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

/** Index in the task log of `node kind`'s first (or last) answer. */
const at = (sim: SimCluster, entry: string, last = false) =>
  last ? sim.log.lastIndexOf(entry) : sim.log.indexOf(entry);

t.test(
  "servers one at a time (init last), then the agents, then the flip; new plans use the agent token",
  async (t) => {
    const { w, sim } = await legacyCluster(t);
    t.ok(
      w.coord.getCluster().warnings.some((m) => m.includes("muster agent-token migrate")),
      "the legacy warning names the command",
    );
    const { operation } = w.coord.startAgentTokenMigration("10.0.0.1");
    t.match(operation, { type: "agent-token", node: null, state: "running" });
    const op = await finished(w, operation.id);
    t.equal(op.state, "succeeded", op.reason ?? "");
    t.same(
      op.steps.map((s) => s.state),
      ["succeeded", "succeeded", "succeeded", "succeeded", "succeeded"],
    );
    const subjects = op.steps.map((s) => /\b(s\d|a\d(, a\d)?)\b/.exec(s.name)?.[0] ?? s.name);
    t.same(
      subjects,
      ["s2", "s3", "s1", "a1, a2", "enforce the agent token: new plans carry it"],
      "non-init servers, the init server last, the agents in one batch (agents.concurrency), the flip",
    );

    // Each server: config, stop, start, gate; the next one starts only after the previous passed it.
    const order = ["s2", "s3", "s1"];
    for (const s of order) {
      const seq = ["rke2.config-credential", "rke2.stop", "rke2.start", "etcd.status"].map((k) =>
        at(sim, `${s} ${k}`, k === "etcd.status"),
      );
      t.ok(
        seq.every((v, i) => v >= 0 && (i === 0 || v > seq[i - 1]!)),
        `${s}: agent-token written, stopped, started, gated (${seq.join(" < ")})`,
      );
    }
    for (let i = 1; i < order.length; i++)
      t.ok(
        at(sim, `${order[i]} rke2.config-credential`) > at(sim, `${order[i - 1]} etcd.status`, true),
        `${order[i]} is touched only after ${order[i - 1]} passed its gate`,
      );
    const lastServer = Math.max(...order.map((s) => at(sim, `${s} etcd.status`, true)));
    t.ok(at(sim, "a1 rke2.config-credential") > lastServer, "the agents come after every server");

    // What the nodes now hold: one agent-token on every server, the agents only its credential.
    const agentToken = sim.config.get("s1 agent-token")!;
    t.match(agentToken, /^[0-9a-f]{32}$/);
    t.same(
      SERVERS.map((s) => sim.config.get(`${s} agent-token`)),
      [agentToken, agentToken, agentToken],
      "the same agent-token on every server",
    );
    for (const a of ["a1", "a2"]) {
      t.same(
        parseRke2Token(sim.config.get(`${a} token`)!),
        { caHash: parseRke2Token(CLUSTER_TOKEN).caHash, user: "node", password: agentToken },
        `${a}: K10<ca hash>::node:<agent token>`,
      );
      t.notOk(sim.config.has(`${a} agent-token`), `${a} gets no agent-token`);
    }

    t.notOk(
      w.coord.getCluster().warnings.some((m) => m.includes("agent-token")),
      "no legacy warning any more",
    );
    t.ok(
      eventsOf(w).some((e) => e.type === "cluster.agent-token.enforced"),
      "event cluster.agent-token.enforced",
    );
    t.notOk(
      JSON.stringify(w.coord.listOperations()).includes(agentToken),
      "the agent token appears in no step or reason",
    );
    t.notOk(
      eventsOf(w).some((e) => e.message.includes(agentToken)),
      "nor in an event",
    );
    t.notOk(
      w.logs.some((l) => l.includes(agentToken)),
      "nor in the log",
    );
    t.equal(
      (await refusal(() => w.coord.startAgentTokenMigration())).code,
      "NOT_LEGACY",
      "a second one: NOT_LEGACY",
    );

    // New nodes join as in a cluster formed by this version; their critical config matches.
    await joinSim(w, sim, "s4", "server");
    t.equal(planOf(w, "s4").config["agent-token"], agentToken, "a new server gets the same agent-token");
    await joinSim(w, sim, "a3", "agent");
    t.equal(
      planOf(w, "a3").config["token"],
      sim.config.get("a1 token"),
      "a new agent gets the agent credential",
    );
  },
);

t.test("under the lease: nothing else meanwhile, and a second migration is refused", async (t) => {
  const { w, sim } = await legacyCluster(t, ["a1"]);
  sim.holdKinds.add("s2 rke2.start");
  const { operation } = w.coord.startAgentTokenMigration();
  await until(() => sim.held.length === 1, 5000, "s2's start to be held");
  t.equal((await refusal(() => w.coord.removeNode("a1", false))).code, "OPERATION_IN_FLIGHT", "no removal");
  t.equal(
    (await refusal(() => w.coord.startAgentTokenMigration())).code,
    "OPERATION_IN_FLIGHT",
    "no second one",
  );
  t.match(w.coord.getLease(), { kind: "operation", operationId: operation.id });
  // Release the start: the operation goes on and ends.
  sim.holdKinds.clear();
  const held = sim.held.splice(0);
  for (const h of held) {
    sim.kube.get(h.node)!.ready = "True"; // what the start it answers for does (helpers/day-two.ts)
    w.coord.handleFrame(h.node, { type: "task.result", id: h.id, ok: true, result: {} });
  }
  const op = await finished(w, operation.id);
  t.equal(op.state, "succeeded", op.reason ?? "");
  t.equal(w.coord.getLease(), null, "the lease is released");
});

t.test("a coordinator restart mid-way resumes at the step reached", async (t) => {
  const { w, sim } = await legacyCluster(t, ["a1"]);
  sim.holdKinds.add("s3 rke2.start");
  const { operation } = w.coord.startAgentTokenMigration();
  await until(() => sim.held.length === 1, 5000, "s3's start to be held");
  await w.coord.close();
  sim.holdKinds.clear();
  sim.held.splice(0);

  const again = w.reopen();
  for (const n of [...SERVERS, "a1"]) {
    again.links.delete(n);
    reconnect(again, sim, n);
  }
  again.coord.start();
  const op = await finished(again, operation.id);
  t.equal(op.state, "succeeded", op.reason ?? "");
  t.equal(sim.log.filter((l) => l === "s3 rke2.stop").length, 2, "s3's step ran again from its start");
  t.equal(sim.log.filter((l) => l === "s2 rke2.config-credential").length, 1, "s2 was not touched again");
  t.equal(sim.log.filter((l) => l === "s2 rke2.stop").length, 1, "nor restarted again");
  t.same(
    SERVERS.map((s) => sim.config.get(`${s} agent-token`)),
    SERVERS.map(() => sim.config.get("s1 agent-token")),
    "every server has the agent-token",
  );
  t.notOk(
    again.coord.getCluster().warnings.some((m) => m.includes("agent-token")),
    "enforced",
  );
});

t.test("a server refusing to start stops the migration there, with the reason", async (t) => {
  const { w, sim } = await legacyCluster(t, ["a1"]);
  sim.failures.set(
    "s3 rke2.start",
    "systemctl start rke2-server failed (exit 1): failed to validate server configuration: critical configuration value mismatch",
  );
  const op = await finished(w, w.coord.startAgentTokenMigration().operation.id);
  t.equal(op.state, "failed");
  t.match(
    op.reason,
    /rke2-server on s3 did not start with the new agent-token: .*critical configuration value mismatch.*stops here/,
  );
  t.same(
    op.steps.map((s) => s.state),
    ["succeeded", "failed", "pending", "pending", "pending"],
    "s2 done, s3 failed, nothing after it",
  );
  t.equal(sim.log.filter((l) => l === "s3 rke2.start").length, 1, "not retried: a refusal is no timeout");
  t.notOk(sim.config.has("s1 agent-token"), "the init server was not touched");
  t.notOk(sim.config.has("a1 token"), "nor the agent");
  t.ok(
    w.coord.getCluster().warnings.some((m) => m.includes("muster agent-token migrate")),
    "the cluster stays legacy",
  );
  t.equal(w.coord.getLease(), null, "the lease is released");
});

t.test("a cluster formed by this version: NOT_LEGACY, 409", async (t) => {
  const w = makeWorld(t);
  await formSim(w, ["s1"], ["a1"]);
  const err = await refusal(() => w.coord.startAgentTokenMigration());
  t.equal(err.code, "NOT_LEGACY");
  t.equal(err.status, 409);
  t.same(w.coord.listOperations(), [], "no operation was created");
});

t.test("with the VIP: its holder is stopped the VIP-safe way and the VIP is seen to move", async (t) => {
  const w = makeWorld(t, {
    spec: ClusterSpecSchema.parse({ vip: { address: "10.0.0.100", interface: "eth0" } }),
  });
  await w.coord.close();
  const db = new DatabaseSync(join(w.stateDir, "muster.db"));
  db.prepare("UPDATE meta SET value = 'legacy' WHERE key = 'agent-token-mode'").run();
  db.close();
  const again = w.reopen();
  const sim = newSim();
  sim.vip.holder = "s1";
  for (const s of SERVERS) await joinSim(again, sim, s, "server");
  sim.vip.holder = "s2";
  const op = await finished(again, again.coord.startAgentTokenMigration().operation.id);
  t.equal(op.state, "succeeded", op.reason ?? "");
  t.match(op.steps[0], { state: "succeeded", message: /s2 runs with agent-token .*VIP moved to s[13]/ });
  t.ok(sim.log.includes("s2 vip.release"), "the stale address check ran on the stopped holder");
  t.ok(
    sim.log.some((l) => /^s[13] vip.observe$/.test(l)),
    "the other servers observed the VIP",
  );
});
