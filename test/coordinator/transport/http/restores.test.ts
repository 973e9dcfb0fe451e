import { restoreServer, restoreSteps } from "@muster/coordinator/domain/operations/restore";
import t from "tap";
import { auth, createJoinToken, enrol, facts, makeApp, passChecks } from "../../helpers/harness.ts";

// POST /v1/restores (docs/operations.md#restore-etcd-from-a-snapshot): a restore operation under
// the control-plane lease, in RKE2's order, through the servers' agents; the cluster is `restoring`.

const SNAP = "/var/lib/rancher/rke2/server/db/snapshots";
const snapshot = {
  name: "nightly-cp-1-1796183600",
  location: `file://${SNAP}/nightly-cp-1-1796183600`,
  size: 70000,
  createdAt: "2026-12-02T04:33:20Z",
};

t.test("restore runs stop, cluster-reset, start on the server holding the snapshot", async (t) => {
  const { app } = await makeApp(t);
  const call = (method: "GET" | "POST", url: string, payload?: object) =>
    app.inject({ method, url, headers: auth, ...(payload ? { payload } : {}) });

  const bad = await call("POST", "/v1/restores", { snapshot: "../etc/passwd" });
  t.equal(bad.statusCode, 400, "a path is not a snapshot name");
  t.match(bad.json(), { error: { code: "VALIDATION_FAILED" } });

  const cp1 = await enrol(app, (await createJoinToken(app, "server")).token, facts("cp-1"));
  await passChecks(cp1.agent);
  const plan = (await cp1.agent.next("plan.apply")).plan;
  cp1.agent.send({
    type: "token.captured",
    checksum: plan.checksum,
    token: `K10${"ab".repeat(32)}::server:${"cd".repeat(16)}`,
  });
  cp1.agent.send({ type: "plan.done", checksum: plan.checksum, ok: true });
  await waitFor(async () => (await call("GET", "/v1/nodes/cp-1")).json().state === "joined");

  // An unknown snapshot: 404, nothing started.
  const unknown = call("POST", "/v1/restores", { snapshot: "nope" });
  const ls0 = await cp1.agent.next("task.run");
  t.same(ls0.task, { kind: "rke2.snapshot-list" });
  cp1.agent.send({ type: "task.result", id: ls0.id, ok: true, result: { snapshots: [snapshot] } });
  const nf = await unknown;
  t.equal(nf.statusCode, 404, nf.body);
  t.match(nf.json(), { error: { code: "NOT_FOUND", message: /nope/ } });

  const pending = call("POST", "/v1/restores", { snapshot: snapshot.name });
  const ls = await cp1.agent.next("task.run");
  cp1.agent.send({ type: "task.result", id: ls.id, ok: true, result: { snapshots: [snapshot] } });
  const accepted = await pending;
  t.equal(accepted.statusCode, 202, accepted.body);
  const op = accepted.json().operation;
  t.match(op, { type: "restore", state: "running" });
  t.equal((await call("GET", "/v1/cluster")).json().phase, "restoring", "phase while it runs");

  // Snapshot of the current state first; etcd is down here: skipped, the restore goes on.
  const pre = await cp1.agent.next("task.run");
  t.same(pre.task, { kind: "rke2.snapshot-save", name: "pre-restore" });
  cp1.agent.send({ type: "task.result", id: pre.id, ok: false, message: "etcd down" });
  const stop = await cp1.agent.next("task.run");
  t.same(stop.task, { kind: "rke2.stop", unit: "rke2-server", killall: true }, "VIP-safe stop");
  cp1.agent.send({ type: "task.result", id: stop.id, ok: true, result: { killed: true } });
  const reset = await cp1.agent.next("task.run");
  t.same(reset.task, { kind: "rke2.cluster-reset", snapshot: snapshot.name });
  cp1.agent.send({
    type: "task.result",
    id: reset.id,
    ok: true,
    result: { message: "Managed etcd cluster membership has been reset" },
  });
  const start = await cp1.agent.next("task.run");
  t.same(start.task, { kind: "rke2.start", unit: "rke2-server" });
  cp1.agent.send({ type: "task.result", id: start.id, ok: true, result: {} });
  const st = await cp1.agent.next("task.run");
  t.same(st.task, { kind: "etcd.status" });
  const member = {
    id: "a1",
    name: "cp-1-abc",
    peerURLs: ["https://10.0.0.1:2380"],
    clientURLs: [],
    isLearner: false,
  };
  cp1.agent.send({
    type: "task.result",
    id: st.id,
    ok: true,
    result: { members: [member], leaderId: "a1", localId: "a1" },
  });
  await waitFor(async () => (await call("GET", `/v1/operations/${op.id}`)).json().state === "succeeded");
  const done = (await call("GET", `/v1/operations/${op.id}`)).json();
  t.same(
    done.steps.map((s: { name: string; state: string }) => [s.name, s.state]),
    [
      ["snapshot the current state on cp-1", "skipped"],
      ["stop rke2-server on cp-1", "succeeded"],
      [`reset etcd on cp-1 from ${snapshot.name}`, "succeeded"],
      ["start rke2-server on cp-1", "succeeded"],
      ["wait for every node to reconnect", "succeeded"],
    ],
  );
  t.not((await call("GET", "/v1/cluster")).json().phase, "restoring", "the lease is released");
});

t.test(
  "restore steps: every server stopped before the reset, the others rejoin one by one after",
  async (t) => {
    const n = (name: string, role: "server" | "agent", init = false) =>
      ({ name, role, init, state: "joined", connected: true }) as never;
    const steps = restoreSteps("s1", "cp-2", [
      n("cp-1", "server"),
      n("cp-2", "server", true),
      n("cp-3", "server"),
      n("w-1", "agent"),
    ]);
    t.same(
      steps.map((s) => s.name),
      [
        "snapshot the current state on cp-2",
        "stop rke2-server on cp-1",
        "stop rke2-server on cp-2",
        "stop rke2-server on cp-3",
        "reset etcd on cp-2 from s1",
        "start rke2-server on cp-2",
        "rejoin cp-1 (server/db wiped)",
        "rejoin cp-3 (server/db wiped)",
        "wait for every node to reconnect",
      ],
    );
    t.ok(steps.every((s) => s.args.reset === "cp-2" && s.args.snapshot === "s1"));
  },
);

t.test("the reset server is the init server; a local snapshot elsewhere is refused (409)", async (t) => {
  const n = (name: string, init = false, state = "joined") =>
    ({ name, role: "server", init, state, connected: true }) as never;
  const nodes = [n("cp-1", true), n("cp-2"), n("cp-3")];
  const at = (node: string, location: "local" | "s3" = "local") => ({ ...snapshot, node, location });
  t.equal(restoreServer(snapshot.name, [at("cp-1"), at("cp-2")], nodes), "cp-1", "init server holds it");
  t.equal(restoreServer(snapshot.name, [at("cp-2", "s3")], nodes), "cp-1", "S3: fetched by the init server");
  t.throws(
    () => restoreServer(snapshot.name, [at("cp-2")], nodes),
    { code: "CONFLICT", message: /on cp-2, not on the init server cp-1/ },
    "wiped and started, the init server would form a new cluster: refused",
  );
  t.equal(
    restoreServer(snapshot.name, [at("cp-2"), at("cp-2", "s3")], nodes),
    "cp-1",
    "a local copy elsewhere does not refuse one that is also in S3",
  );
  t.throws(() => restoreServer(snapshot.name, [], nodes), { code: "NOT_FOUND" });
  // No joined init server (it was lost): the holder of the local copy.
  const noInit = [n("cp-1", true, "lost"), n("cp-2"), n("cp-3")];
  t.equal(restoreServer(snapshot.name, [at("cp-3")], noInit), "cp-3");
});

async function waitFor(cond: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}
