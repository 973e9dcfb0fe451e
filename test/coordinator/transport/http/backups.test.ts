import t from "tap";
import { auth, createJoinToken, enrol, facts, makeApp, passChecks } from "../../helpers/harness.ts";

// POST /v1/backups and GET /v1/backups (docs/reference.md#backups): an on-demand snapshot through a
// joined server's agent as a backup operation, and the snapshots the servers list.

const SNAP = "/var/lib/rancher/rke2/server/db/snapshots";

t.test("backup operation on a joined server; list merges local and S3 snapshots", async (t) => {
  const { app } = await makeApp(t);
  const call = (method: "GET" | "POST", url: string, payload?: object) =>
    app.inject({ method, url, headers: auth, ...(payload ? { payload } : {}) });

  const none = await call("POST", "/v1/backups", {});
  t.equal(none.statusCode, 409, "no server yet");
  t.match(none.json(), { error: { code: "CONFLICT", message: /no joined server/ } });
  const bad = await call("POST", "/v1/backups", { name: "Bad/Name" });
  t.equal(bad.statusCode, 400);
  t.match(bad.body, "name");

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

  const accepted = await call("POST", "/v1/backups", { name: "nightly" });
  t.equal(accepted.statusCode, 202, accepted.body);
  const op = accepted.json().operation;
  t.match(op, { type: "backup", node: null, state: "running" });
  const run = await cp1.agent.next("task.run");
  t.same(run.task, { kind: "rke2.snapshot-save", name: "nightly" }, "the agent is asked to save a snapshot");
  const snapshot = {
    name: "nightly-cp-1-1796183600",
    location: `file://${SNAP}/nightly-cp-1-1796183600`,
    size: 70000,
    createdAt: "2026-12-02T04:33:20Z",
  };
  cp1.agent.send({ type: "task.result", id: run.id, ok: true, result: { snapshot } });
  await waitFor(async () => (await call("GET", `/v1/operations/${op.id}`)).json().state === "succeeded");
  const done = (await call("GET", `/v1/operations/${op.id}`)).json();
  t.match(done.steps[0], {
    name: "snapshot on cp-1",
    state: "succeeded",
    message: /nightly-cp-1-1796183600 saved on cp-1/,
  });

  const listing = call("GET", "/v1/backups");
  const ls = await cp1.agent.next("task.run");
  t.same(ls.task, { kind: "rke2.snapshot-list" });
  cp1.agent.send({
    type: "task.result",
    id: ls.id,
    ok: true,
    result: {
      snapshots: [
        snapshot,
        {
          ...snapshot,
          location: "s3://muster-snaps/lab/nightly-cp-1-1796183600",
          createdAt: "2026-12-02T04:33:21Z",
        },
      ],
    },
  });
  const list = await listing;
  t.equal(list.statusCode, 200, list.body);
  t.same(list.json(), {
    backups: [
      {
        name: snapshot.name,
        node: "cp-1",
        size: 70000,
        createdAt: "2026-12-02T04:33:20Z",
        location: "local",
      },
      { name: snapshot.name, node: "cp-1", size: 70000, createdAt: "2026-12-02T04:33:21Z", location: "s3" },
    ],
  });

  // A failing snapshot fails the operation with the agent's reason.
  const again = (await call("POST", "/v1/backups", {})).json().operation;
  const run2 = await cp1.agent.next("task.run");
  t.same(run2.task, { kind: "rke2.snapshot-save" });
  cp1.agent.send({
    type: "task.result",
    id: run2.id,
    ok: false,
    message: "rke2 etcd-snapshot save failed (exit 1): etcd down",
  });
  await waitFor(async () => (await call("GET", `/v1/operations/${again.id}`)).json().state === "failed");
  t.match((await call("GET", `/v1/operations/${again.id}`)).json().reason, /etcd down/);
});

async function waitFor(cond: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}
