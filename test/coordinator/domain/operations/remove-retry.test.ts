import { MusterError } from "@muster/shared";
import t from "tap";
import { formSim, killAgent, type SimCluster, until } from "../../helpers/day-two.ts";
import { makeWorld, type World } from "../../helpers/domain.ts";

// Removal steps that meet transient errors (an apiserver timing out under load, etcd between
// leaders) are retried with back-off; a removal that finally fails leaves the node `removing` with
// the way on, and a new request resumes it at the step it failed at.

const TIMEOUT = "InternalError: The operation was aborted due to timeout";

async function finished(w: World, id: string) {
  await until(() => w.coord.getOperation(id).state !== "running", 10_000, `operation ${id}`);
  return w.coord.getOperation(id);
}

function failOnServers(sim: SimCluster, kind: string, message: string): void {
  // Whichever healthy server the step acts through.
  for (const s of ["s1", "s2"]) sim.failures.set(`${s} ${kind}`, message);
}

const deletes = (sim: SimCluster) => sim.log.filter((l) => l.endsWith("kube.delete-node s3")).length;

t.test("a step failing with a timeout is retried with back-off and the step shows it", async (t) => {
  const w = makeWorld(t, { operationRetry: { firstMs: 20, maxMs: 50 } });
  const sim = await formSim(w, ["s1", "s2", "s3"]);
  failOnServers(sim, "kube.delete-node", TIMEOUT);
  const { operation } = await w.coord.removeNode("s3", false);
  const step = () => w.coord.getOperation(operation.id).steps.find((s) => s.name === "delete its Node")!;
  await until(() => (step().attempts ?? 0) >= 2, 10_000, "a second attempt");
  t.match(step().lastError, /aborted due to timeout/, "the last error is on the step");
  t.equal(w.coord.getOperation(operation.id).state, "running", "still running while it retries");
  sim.failures.clear();
  const done = await finished(w, operation.id);
  t.equal(done.state, "succeeded", done.reason ?? "");
  const del = done.steps.find((s) => s.name === "delete its Node")!;
  t.equal(del.state, "succeeded");
  t.ok((del.attempts ?? 0) >= 2, `attempts recorded (${del.attempts})`);
  t.match(del.lastError, /aborted due to timeout/);
  t.ok(deletes(sim) >= 2, "each attempt asked the agent again (a new task id)");
  t.notOk(sim.kube.has("s3"));
  t.equal(w.coord.getNode("s3").state, "removed");
  t.equal(done.steps.find((s) => s.name === "cordon")!.attempts, 1, "other steps ran once");
});

t.test("an error that is not transient fails the removal at once", async (t) => {
  const w = makeWorld(t, { operationRetry: { firstMs: 20, maxMs: 50 } });
  const sim = await formSim(w, ["s1", "s2", "s3"]);
  failOnServers(sim, "kube.cordon", 'nodes "s3" is forbidden: User cannot patch resource');
  const done = await finished(w, (await w.coord.removeNode("s3", false)).operation.id);
  t.equal(done.state, "failed");
  t.match(done.reason, /forbidden/);
  t.match(done.steps[1], { name: "cordon", state: "failed", attempts: 1 });
});

t.test(
  "a removal that finally fails leaves the node removing with the way on; a new request resumes it",
  async (t) => {
    const w = makeWorld(t, { operationRetry: { deadlineMs: 0 } });
    const sim = await formSim(w, ["s1", "s2", "s3"]);
    killAgent(w, sim, "s3");
    sim.kube.get("s3")!.ready = "Unknown";
    failOnServers(sim, "kube.delete-node", TIMEOUT);
    const { operation } = await w.coord.removeNode("s3", true, "10.0.0.1");
    const failed = await finished(w, operation.id);
    t.equal(failed.state, "failed");
    t.match(failed.reason, /aborted due to timeout.*gave up after 1 attempts/);
    t.match(failed.steps[7], { name: "delete its Node", state: "failed", attempts: 1 });
    t.same(sim.members.map((m) => m.name).sort(), ["s1", "s2"], "the member was removed before the failure");
    const node = w.coord.getNode("s3");
    t.equal(node.state, "removing", "not forgotten: its Node still exists");
    t.match(node.message, /removal failed at "delete its Node".*Run `muster remove s3 --force` again/);
    t.equal(w.coord.listOperations().length, 1);

    sim.failures.clear();
    const cordons = sim.log.filter((l) => l.endsWith("kube.cordon s3")).length;
    const again = await w.coord.removeNode("s3", true, "10.0.0.1");
    t.equal(again.operation.id, operation.id, "the same operation, resumed");
    t.equal(again.operation.state, "running");
    const done = await finished(w, operation.id);
    t.equal(done.state, "succeeded", done.reason ?? "");
    t.match(done.steps[7], { name: "delete its Node", state: "succeeded", attempts: 2 });
    t.equal(
      sim.log.filter((l) => l.endsWith("kube.cordon s3")).length,
      cordons,
      "steps before the failed one did not run again",
    );
    t.notOk(sim.kube.has("s3"));
    t.notOk(sim.passwords.has("s3"));
    t.equal(w.coord.getNode("s3").state, "removed");
    let err: unknown;
    try {
      await w.coord.removeNode("s3", true);
    } catch (e) {
      err = e;
    }
    t.ok(err instanceof MusterError && err.code === "CONFLICT", "a removed node is not removed again");
  },
);

t.test("resuming a removal that failed before its member went is still under the quorum guard", async (t) => {
  const w = makeWorld(t, { operationRetry: { deadlineMs: 0 } });
  const sim = await formSim(w, ["s1", "s2", "s3"]);
  failOnServers(sim, "kube.cordon", TIMEOUT);
  const failed = await finished(w, (await w.coord.removeNode("s3", false)).operation.id);
  t.equal(failed.state, "failed");
  killAgent(w, sim, "s2");
  let err: unknown;
  try {
    await w.coord.removeNode("s3", false);
  } catch (e) {
    err = e;
  }
  t.ok(err instanceof MusterError, "refused");
  t.equal((err as MusterError).code, "QUORUM_GUARD");
  t.equal(w.coord.getOperation(failed.id).state, "failed", "nothing changed");
});
