import { ClusterSpecSchema } from "@muster/shared";
import t from "tap";
import { answerHeld, formSim, SIM_RELEASE, type SimCluster, until } from "../../helpers/day-two.ts";
import { makeWorld, type World } from "../../helpers/domain.ts";

// The rolling upgrade (docs/reference.md#upgrades) through the real coordinator domain, its
// operations runner and task dispatcher, against the simulated cluster of helpers/day-two.ts: the
// agents go at most agents.concurrency at a time, fewer while other Nodes are not ready, and none
// while no slot is left; the new release becomes the spec's.

const TO = "v1.34.1+rke2r1";
const AGENTS = ["a1", "a2", "a3"];

async function cluster(t: Parameters<typeof makeWorld>[0], concurrency: number) {
  const w = makeWorld(t, {
    spec: ClusterSpecSchema.parse({ rke2: { version: SIM_RELEASE }, agents: { concurrency } }),
  });
  const sim = await formSim(w, ["s1"], AGENTS);
  return { w, sim };
}

async function finished(w: World, id: string, ms = 20_000) {
  await until(() => w.coord.getOperation(id).state !== "running", ms, `operation ${id}`);
  return w.coord.getOperation(id);
}

/** How many agents were stopped so far. */
const agentStops = (sim: SimCluster) => sim.log.filter((e) => /^a\d rke2\.stop$/.test(e)).length;
const kubeReads = (sim: SimCluster) => sim.log.filter((e) => e.endsWith(" kube.nodes")).length;
/** Every agent's restart is held: an agent once stopped stays down until answerHeld. */
const holdAgentStarts = (sim: SimCluster) => {
  for (const a of AGENTS) sim.holdKinds.add(`${a} rke2.start`);
};

t.test("agents: at most agents.concurrency at a time, fewer while other Nodes are not ready", async (t) => {
  // Control: every Node ready, so the batch of three goes down at once.
  const control = await cluster(t, 3);
  holdAgentStarts(control.sim);
  const first = control.w.coord.startUpgrade({ version: TO, drain: false }).operation.id;
  await until(() => control.sim.held.length === 3, 20_000, "all three agents to be down");
  t.equal(agentStops(control.sim), 3, "with every Node ready, the whole batch at once");
  answerHeld(control.w, control.sim);
  const all = await finished(control.w, first);
  t.equal(all.state, "succeeded", all.reason ?? "");
  t.equal(control.w.coord.getSpec().rke2.version, TO, "the new release is the spec's");
  for (const a of AGENTS) t.equal(control.sim.running.get(a), TO, `${a}'s kubelet reports ${TO}`);

  // A Node muster is not upgrading (a machine that went away) is down: one slot fewer.
  const { w, sim } = await cluster(t, 3);
  sim.kube.set("gone", { ready: "Unknown", unschedulable: false });
  holdAgentStarts(sim);
  const id = w.coord.startUpgrade({ version: TO, drain: false }).operation.id;
  await until(() => sim.held.length === 2, 20_000, "two agents to be down");
  // The step asks the API again each second while its slots are full: after two more looks, still two.
  const reads = kubeReads(sim);
  await until(() => kubeReads(sim) >= reads + 2, 20_000, "two more looks at the Nodes");
  t.equal(agentStops(sim), 2, "3 slots, 1 Node already down: 2 agents at a time");
  answerHeld(w, sim);
  const op = await finished(w, id);
  t.equal(op.state, "succeeded", op.reason ?? "");
  t.equal(agentStops(sim), 3, "the third went once a slot was free");
  for (const a of AGENTS) t.equal(sim.running.get(a), TO, `${a} upgraded all the same`);
});

t.test("agents: held with the reason while no slot is left, then go on", async (t) => {
  const { w, sim } = await cluster(t, 1);
  sim.kube.set("gone", { ready: "False", unschedulable: false });
  const { operation } = w.coord.startUpgrade({ version: TO, drain: false });
  const agentsStep = () =>
    w.coord.getOperation(operation.id).steps.find((s) => s.name.startsWith("upgrade agents"))!;
  await until(
    () =>
      /^held: 1 other Node\(s\) not ready \(gone\): 0 of 1 slot\(s\) free$/.test(agentsStep().message ?? ""),
    20_000,
    "the first agent batch to be held",
  );
  t.equal(agentsStep().state, "running", "held, not failed");
  t.equal(sim.running.get("a1") ?? SIM_RELEASE, SIM_RELEASE, "no agent was touched while held");
  t.notOk(
    sim.log.some((e) => /^a\d rke2\.(install|stop)/.test(e)),
    "nothing installed or stopped on an agent",
  );
  sim.kube.set("gone", { ready: "True", unschedulable: false });
  const op = await finished(w, operation.id);
  t.equal(op.state, "succeeded", op.reason ?? "");
  t.equal(agentStops(sim), 3, "every agent upgraded");
});
