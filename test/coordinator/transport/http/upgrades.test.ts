import { ClusterSpecSchema } from "@muster/shared";
import t from "tap";
import { auth, createJoinToken, enrol, facts, makeApp, passChecks } from "../../helpers/harness.ts";

// POST /v1/upgrades (docs/reference.md#upgrades): the version rules refuse with 400 naming both
// versions; an accepted upgrade snapshots first, then on the server: cordon, the installer with the
// new version, a restart, the readiness gate (etcd voter, Node Ready at the new kubelet, the
// registration address answering again), uncordon; then the new release is the spec's.

const FROM = "v1.33.5+rke2r1";
const TO = "v1.34.1+rke2r1";

t.test("an upgrade: refused backwards or two minors ahead; accepted, run in order", async (t) => {
  // The registration address as the coordinator's probe finds it: switched off during the gate.
  let registrationUp = true;
  const { app } = await makeApp(t, {
    coordinator: { registrationProbe: () => async () => registrationUp },
  });
  const call = (method: "GET" | "POST" | "PUT", url: string, payload?: object) =>
    app.inject({ method, url, headers: auth, ...(payload ? { payload } : {}) });

  const cp1 = await enrol(
    app,
    (await createJoinToken(app, "server")).token,
    facts("cp-1", { rke2: { installed: true, version: FROM, role: "server" } }),
  );
  await passChecks(cp1.agent);
  const plan = (await cp1.agent.next("plan.apply")).plan;
  cp1.agent.send({
    type: "token.captured",
    checksum: plan.checksum,
    token: `K10${"ab".repeat(32)}::server:${"cd".repeat(16)}`,
  });
  cp1.agent.send({ type: "plan.done", checksum: plan.checksum, ok: true });
  await waitFor(async () => (await call("GET", "/v1/nodes/cp-1")).json().state === "joined");

  const notVersion = await call("POST", "/v1/upgrades", { version: "latest" });
  t.equal(notVersion.statusCode, 400);
  const down = await call("POST", "/v1/upgrades", { version: "v1.32.9+rke2r1" });
  t.equal(down.statusCode, 400, down.body);
  t.match(down.json(), {
    error: { code: "VALIDATION_FAILED", message: /v1\.32\.9\+rke2r1.*v1\.33\.5\+rke2r1.*downgrade/ },
  });
  const skip = await call("POST", "/v1/upgrades", { version: "v1.35.0+rke2r1" });
  t.equal(skip.statusCode, 400, skip.body);
  t.match(skip.json().error.message, /v1\.33\.5\+rke2r1 -> v1\.35\.0\+rke2r1 skips 1 minor/);

  const accepted = await call("POST", "/v1/upgrades", { version: TO });
  t.equal(accepted.statusCode, 202, accepted.body);
  const op = accepted.json().operation;
  t.match(op, { type: "upgrade", state: "running" });
  t.equal((await call("GET", "/v1/cluster")).json().phase, "upgrading");

  const answer = async (want: object, result: object) => {
    const task = await cp1.agent.next("task.run");
    t.match(task.task, want, `task ${JSON.stringify(want)}`);
    cp1.agent.send({ type: "task.result", id: task.id, ok: true, result });
    return task;
  };
  await answer(
    { kind: "rke2.snapshot-save", name: "pre-upgrade" },
    {
      snapshot: {
        name: "pre-upgrade-cp-1-1",
        location: "file:///x",
        size: 1,
        createdAt: "2026-12-02T00:00:00Z",
      },
    },
  );
  await answer({ kind: "kube.cordon", node: "cp-1", undo: false }, {});
  const install = await answer(
    { kind: "rke2.install", install: { type: "server", version: TO } },
    { version: TO },
  );
  t.equal(
    install.task.kind === "rke2.install" && install.task.install.version,
    TO,
    "the new INSTALL_RKE2_VERSION",
  );
  await answer({ kind: "rke2.stop", unit: "rke2-server", killall: false }, { killed: false });
  await answer({ kind: "rke2.start", unit: "rke2-server" }, {});
  const member = {
    id: "a1",
    name: "cp-1-abc",
    peerURLs: ["https://10.0.0.1:2380"],
    clientURLs: [],
    isLearner: false,
  };
  await answer({ kind: "etcd.status" }, { members: [member], leaderId: "a1", localId: "a1" });
  // Held at the gate while the kubelet still reports the old version; passes once it is the new one.
  const kubeNode = (kubeletVersion: string) => ({
    nodes: [{ name: "cp-1", ready: "True", unschedulable: true, kubeletVersion, annotations: {} }],
  });
  await answer({ kind: "kube.nodes" }, kubeNode("v1.33.5+rke2r1"));
  // etcd and the Node are good, but the registration address does not answer: still held.
  registrationUp = false;
  await answer({ kind: "etcd.status" }, { members: [member], leaderId: "a1", localId: "a1" });
  await answer({ kind: "kube.nodes" }, kubeNode(TO));
  await waitFor(async () =>
    /held: cp-1 not ready: the registration address 10\.\d+\.\d+\.\d+ does not answer on 9345 and 6443/.test(
      (await call("GET", `/v1/operations/${op.id}`)).json().steps[1].message ?? "",
    ),
  );
  t.equal(
    (await call("GET", `/v1/operations/${op.id}`)).json().state,
    "running",
    "held, not failed, while the registration address is down",
  );
  registrationUp = true;
  await answer({ kind: "etcd.status" }, { members: [member], leaderId: "a1", localId: "a1" });
  await answer({ kind: "kube.nodes" }, kubeNode(TO));
  await answer({ kind: "kube.cordon", node: "cp-1", undo: true }, {});

  await waitFor(async () => (await call("GET", `/v1/operations/${op.id}`)).json().state === "succeeded");
  const done = (await call("GET", `/v1/operations/${op.id}`)).json();
  t.same(
    done.steps.map((s: { state: string }) => s.state),
    ["succeeded", "succeeded", "succeeded"],
  );
  t.match(done.steps[1].message, `cp-1 runs ${TO}`);
  t.equal(
    (await call("GET", "/v1/cluster/spec")).json().rke2.version,
    TO,
    "nodes added from now on install the new release",
  );
  const frozen = await call("PUT", "/v1/cluster", {
    ...(await call("GET", "/v1/cluster/spec")).json(),
    rke2: { version: FROM },
  });
  t.equal(frozen.statusCode, 409, "the release changes only by an upgrade");
  t.match(frozen.json().error.message, /rke2\.version.*muster upgrade/);
  t.not((await call("GET", "/v1/cluster")).json().phase, "upgrading", "the lease is released");
});

t.test("an air-gap source naming one release refuses an upgrade before anything is touched", async (t) => {
  const spec = ClusterSpecSchema.parse({
    rke2: { version: FROM, artifactUrl: "https://mirror.example/rke2/v1.33.5+rke2r1" },
  });
  const { app } = await makeApp(t, { coordinator: { spec } });
  const res = await app.inject({
    method: "POST",
    url: "/v1/upgrades",
    headers: auth,
    payload: { version: TO },
  });
  t.equal(res.statusCode, 400, res.body);
  t.match(res.json().error, {
    code: "VALIDATION_FAILED",
    message:
      /rke2\.artifactUrl https:\/\/mirror\.example\/rke2\/v1\.33\.5\+rke2r1 .*cannot serve v1\.34\.1\+rke2r1.*\{version\}/,
  });
  t.equal(
    (await app.inject({ method: "GET", url: "/v1/operations", headers: auth })).json().operations.length,
    0,
  );
});

async function waitFor(cond: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}
