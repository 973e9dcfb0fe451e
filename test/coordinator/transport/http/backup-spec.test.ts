import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import t from "tap";
import {
  auth,
  createJoinToken,
  enrol,
  FakeAgent,
  facts,
  makeApp,
  passChecks,
} from "../../helpers/harness.ts";

// spec.backup (docs/reference.md#cluster-spec): rendered into every server's RKE2 config; the S3
// secret key is a secret like the RKE2 token: sealed in the vault, inside server plans only, never in
// a log line, an event, a response, the stored spec or a stored plan.

const SECRET = "s3-secret-Zq7xW2pL9vK4mN8r";
const backup = {
  schedule: "*/30 * * * *",
  retention: 7,
  s3: {
    endpoint: "10.77.0.9:9000",
    bucket: "muster-snaps",
    folder: "lab",
    accessKey: "AKIAMUSTER",
    secretKey: SECRET,
    insecure: true,
  },
};

t.test("backup settings reach servers' RKE2 config; the S3 secret key stays a secret", async (t) => {
  const { app, logs, stateDir } = await makeApp(t);
  const bodies: string[] = [];
  const call = async (method: "GET" | "PUT", url: string, payload?: object) => {
    const res = await app.inject({ method, url, headers: auth, ...(payload ? { payload } : {}) });
    bodies.push(res.body);
    return res;
  };

  const missing = await call("PUT", "/v1/cluster", {
    backup: { s3: { ...backup.s3, secretKey: undefined } },
  });
  t.equal(missing.statusCode, 400);
  t.match(missing.json(), {
    error: { code: "VALIDATION_FAILED", details: [{ path: "backup.s3.secretKey" }] },
  });
  const badCron = await call("PUT", "/v1/cluster", { backup: { schedule: "every hour" } });
  t.equal(badCron.statusCode, 400);
  t.match(badCron.body, "backup.schedule");

  const put = await call("PUT", "/v1/cluster", { backup });
  t.equal(put.statusCode, 200, put.body);
  const shown = (await call("GET", "/v1/cluster/spec")).json();
  t.match(shown.backup, {
    schedule: "*/30 * * * *",
    retention: 7,
    s3: { bucket: "muster-snaps", secretKeySet: true },
  });
  t.notOk("secretKey" in shown.backup.s3, "the shown spec has no secretKey field");

  const cp1 = facts("cp-1");
  const server = await enrol(app, (await createJoinToken(app, "server")).token, cp1);
  await passChecks(server.agent);
  const plan = (await server.agent.next("plan.apply")).plan;
  t.match(plan.config, {
    "etcd-snapshot-schedule-cron": "*/30 * * * *",
    "etcd-snapshot-retention": 7,
    "etcd-s3": true,
    "etcd-s3-endpoint": "10.77.0.9:9000",
    "etcd-s3-bucket": "muster-snaps",
    "etcd-s3-folder": "lab",
    "etcd-s3-region": "us-east-1",
    "etcd-s3-access-key": "AKIAMUSTER",
    "etcd-s3-secret-key": SECRET,
    "etcd-s3-insecure": true,
  });

  // A reconnect gets the stored plan again, the secret put back from the vault: same checksum.
  server.agent.close();
  await server.agent.closed;
  const back = await FakeAgent.connect(app);
  back.send({
    type: "hello",
    node: "cp-1",
    credential: server.welcome.credential,
    facts: cp1,
    agentVersion: "1",
    appliedChecksum: null,
  });
  const again = (await back.next("plan.apply")).plan;
  t.equal(again.checksum, plan.checksum, "the re-sent plan is the same plan");
  t.equal(again.config["etcd-s3-secret-key"], SECRET, "with the secret from the vault");

  back.send({
    type: "token.captured",
    checksum: plan.checksum,
    token: `K10${"ab".repeat(32)}::server:${"cd".repeat(16)}`,
  });
  back.send({ type: "plan.done", checksum: plan.checksum, ok: true });

  const worker = await enrol(app, (await createJoinToken(app, "agent")).token, facts("w-1"));
  await passChecks(worker.agent);
  const workerPlan = (await worker.agent.next("plan.apply")).plan;
  t.notOk(
    Object.keys(workerPlan.config).some((k) => k.startsWith("etcd-")),
    "agents get no snapshot keys (and never the secret)",
  );

  // Once servers carry it, another key is refused (their released plans would no longer match).
  const rotate = await call("PUT", "/v1/cluster", {
    backup: { ...backup, s3: { ...backup.s3, secretKey: "other-secret-key-1234" } },
  });
  t.equal(rotate.statusCode, 409);
  t.match(rotate.json(), { error: { code: "CONFLICT" } });
  const keep = await call("PUT", "/v1/cluster", {
    backup: { ...backup, s3: { ...backup.s3, secretKey: undefined } },
  });
  t.equal(keep.statusCode, 200, "the stored key is kept when the spec omits it");
  t.match(keep.json().backup.s3, { secretKeySet: true });

  const events = (await call("GET", "/v1/events?limit=1000")).body;
  t.match(events, /cluster spec updated: backup/, "the change is recorded by field name");
  const db = new DatabaseSync(join(stateDir, "muster.db"), { readOnly: true });
  const storedPlan = (db.prepare("SELECT plan FROM nodes WHERE name = 'cp-1'").get() as { plan: string })
    .plan;
  db.close();
  t.notOk(storedPlan.includes(SECRET), "the stored plan has no secret");
  t.match(storedPlan, "etcd-s3-bucket", "(it is the plan with the S3 settings)");
  const onDisk = readdirSync(stateDir)
    .filter((f) => f.startsWith("muster.db"))
    .map((f) => readFileSync(join(stateDir, f)).toString("latin1"))
    .join("");
  t.notOk(onDisk.includes(SECRET), "not in the database files in clear");
  t.notOk(logs.join("\n").includes(SECRET), "not in any log line");
  t.notOk(
    bodies.some((b) => b.includes(SECRET)),
    "not in any response",
  );
  t.notOk(events.includes(SECRET), "not in events");
});
