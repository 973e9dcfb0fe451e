import path from "node:path";
import { runOperator } from "@muster/cli/main";
import { OperationListSchema } from "@muster/shared";
import Fastify from "fastify";
import t from "tap";
import { makeTestTls } from "../coordinator/transport/delivery/helpers/tls-cert.ts";

// `muster upgrade status [-o json]` (docs/reference.md#upgrades) against a stand-in GET /v1/operations
// in the contract's shapes: the upgrade in flight first, else the newest ended one, never another
// type of operation; none is a message (exit 0) or `null`.

const TOKEN = "admin-token-upgrade-status";
const tls = makeTestTls();
const dir = t.testdir({ "ca.crt": tls.caCert });
const CA = path.join(dir, "ca.crt");
const V = "v1.34.1+rke2r1";

const step = (name: string, state: string, message?: string) => ({
  name,
  state,
  ...(message ? { message } : {}),
});

/** An upgrade to `version` as the coordinator plans it: the snapshot, s2, s1 (init, last), one agent batch. */
function upgrade(id: string, version: string, createdAt: string, state: string, extra: object = {}) {
  return {
    id,
    type: "upgrade",
    node: null,
    state,
    steps: [
      step(`snapshot etcd before the upgrade to ${version}`, "pending"),
      step(`upgrade server s2 to ${version} (cordon, install, restart, readiness gate, uncordon)`, "pending"),
      step(`upgrade server s1 to ${version} (cordon, install, restart, readiness gate, uncordon)`, "pending"),
      step(`upgrade agents a1, a2 to ${version}`, "pending"),
    ],
    createdAt,
    ...extra,
  };
}

const HELD = "held: server(s) not ready: s1";
const running = {
  ...upgrade("op-upgrade-new002", V, "2030-01-02T10:00:00.000Z", "running", {
    reason: HELD,
    startedAt: "2030-01-02T10:00:01.000Z",
    requestedBy: "10.0.0.5",
  }),
};
running.steps[0] = step(running.steps[0]!.name, "succeeded", "etcd saved as pre-upgrade-s1-1893578400 on s1");
running.steps[1] = step(running.steps[1]!.name, "running", HELD);

const FAILED = "upgrade server s2: the readiness gate timed out: its kubelet is v1.33.5+rke2r1";
const failed = upgrade("op-upgrade-old001", "v1.33.6+rke2r1", "2030-01-01T09:00:00.000Z", "failed", {
  reason: FAILED,
  startedAt: "2030-01-01T09:00:01.000Z",
  endedAt: "2030-01-01T09:20:00.000Z",
});
failed.steps[0] = step(failed.steps[0]!.name, "succeeded", "etcd saved as pre-upgrade-s1-1 on s1");
failed.steps[1] = step(failed.steps[1]!.name, "failed", "the readiness gate timed out");

const succeeded = upgrade("op-upgrade-old000", "v1.33.5+rke2r1", "2029-12-01T09:00:00.000Z", "succeeded", {
  startedAt: "2029-12-01T09:00:01.000Z",
  endedAt: "2029-12-01T09:30:00.000Z",
});
succeeded.steps = succeeded.steps.map((s, i) => step(s.name, i === 1 ? "skipped" : "succeeded", "done"));

/** Newer than every upgrade, and in flight: must never be taken for the upgrade. */
const removal = {
  id: "op-remove-new003",
  type: "remove",
  node: "a2",
  state: "running",
  reason: "draining a2",
  steps: [step("cordon", "succeeded"), step("drain", "running", "draining a2")],
  createdAt: "2030-01-02T11:00:00.000Z",
};
const backup = {
  id: "op-backup-new004",
  type: "backup",
  node: null,
  state: "succeeded",
  steps: [step("snapshot etcd on s1", "succeeded")],
  createdAt: "2030-01-02T12:00:00.000Z",
  endedAt: "2030-01-02T12:00:05.000Z",
};

const world = { operations: [] as unknown[], status: 200, gets: [] as string[] };
const app = Fastify({ https: { cert: tls.cert, key: tls.key } });
app.get("/v1/operations", async (req, reply) => {
  world.gets.push(req.url);
  if (req.headers.authorization !== `Bearer ${TOKEN}`)
    return reply
      .code(401)
      .send({ error: { code: "UNAUTHORIZED", message: "Missing or invalid credentials" } });
  if (world.status !== 200)
    return reply.code(world.status).send({ error: { code: "INTERNAL", message: "the store is locked" } });
  return { operations: world.operations };
});
await app.listen({ host: "127.0.0.1", port: 0 });
t.teardown(() => app.close());
const address = app.server.address();
const url = typeof address === "object" && address ? `https://127.0.0.1:${address.port}` : "";

async function muster(argv: string[], token = TOKEN) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runOperator([...argv, "--ca-file", CA], {
    env: { MUSTER_SERVER: url, MUSTER_TOKEN: token },
    out: (s) => out.push(s),
    err: (s) => err.push(s),
    defaults: { server: "https://127.0.0.1:1", caFile: "/nonexistent", tokenFile: "/nonexistent" },
    now: () => Date.parse("2030-01-02T10:05:00.000Z"),
    followIntervalMs: 5,
  });
  return { code, stdout: out.join("\n"), stderr: err.join("\n") };
}

t.test("the stand-in's operations are in the contract's shape", async (t) => {
  const list = { operations: [backup, removal, running, failed, succeeded] };
  t.ok(OperationListSchema.safeParse(list).success);
});

t.test("a running upgrade: version, state, the step it is on, the held reason, every step", async (t) => {
  // Newest first, as the API lists them: a newer removal (in flight too) and a newer backup.
  world.operations = [backup, removal, running, failed, succeeded];
  const r = await muster(["upgrade", "status"]);
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stderr, "");
  t.same(world.gets.at(-1), "/v1/operations");
  const lines = r.stdout.split("\n");
  t.equal(lines[0], `upgrade:    op-upgrade-new002 to ${V}`);
  t.equal(
    lines[1],
    `state:      running, on step 2 of 4: upgrade server s2 to ${V} (cordon, install, restart, readiness gate, uncordon)`,
  );
  t.equal(lines[2], `waiting:    ${HELD}`);
  t.equal(lines[3], "requested:  2030-01-02 10:00 (5m ago) from 10.0.0.5");
  t.equal(lines[4], "started:    2030-01-02 10:00 (4m ago)");
  t.notMatch(r.stdout, /ended:/, "not ended");
  t.match(lines[6], /^# +STATE +STEP +MESSAGE$/);
  t.match(
    lines[7],
    /^1 +succeeded +snapshot etcd before the upgrade to v1\.34\.1\+rke2r1 +etcd saved as pre-upgrade/,
  );
  t.match(lines[8], /^2 +running +upgrade server s2 .* held: server\(s\) not ready: s1$/);
  t.match(lines[9], /^3 +pending +upgrade server s1 to v1\.34\.1\+rke2r1/);
  t.match(lines[10], /^4 +pending +upgrade agents a1, a2 to v1\.34\.1\+rke2r1$/);
  t.equal(lines.length, 11);
  t.notMatch(r.stdout, /op-remove|op-backup|draining a2|op-upgrade-old/, "only the upgrade is shown");
});

t.test("the running upgrade wins over a newer one that ended; order of the list not relied on", async (t) => {
  const newerEnded = { ...succeeded, id: "op-upgrade-new009", createdAt: "2030-01-02T12:30:00.000Z" };
  world.operations = [running, failed, newerEnded, removal];
  const r = await muster(["upgrade", "status"]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /^upgrade: +op-upgrade-new002 /);
});

t.test("an ended upgrade: the newest one, failed, with the step and reason; exit 0", async (t) => {
  world.operations = [removal, succeeded, failed]; // out of order on purpose: failed is newer
  const r = await muster(["upgrade", "status"]);
  t.equal(r.code, 0, "a failed upgrade shown is still a successful status query");
  const lines = r.stdout.split("\n");
  t.equal(lines[0], "upgrade:    op-upgrade-old001 to v1.33.6+rke2r1");
  t.equal(
    lines[1],
    "state:      failed at step 2 of 4: upgrade server s2 to v1.33.6+rke2r1 (cordon, install, restart, readiness gate, uncordon)",
  );
  t.equal(lines[2], `reason:     ${FAILED}`);
  t.equal(lines[5], "ended:      2030-01-01 09:20 (1d ago)");
  t.match(r.stdout, /\n2 +failed +upgrade server s2 .* the readiness gate timed out\n/);
  t.match(r.stdout, /\n3 +pending +upgrade server s1/);

  world.operations = [succeeded, removal];
  const ok = await muster(["upgrade", "status"]);
  t.equal(ok.code, 0, ok.stderr);
  t.match(
    ok.stdout,
    /^upgrade: +op-upgrade-old000 to v1\.33\.5\+rke2r1\nstate: +succeeded \(4 steps, 1 skipped\)\n/,
  );
  t.notMatch(ok.stdout, /waiting:|reason:/);
  t.match(ok.stdout, /\n2 +skipped +upgrade server s2/);
});

t.test("no upgrade ever ran (other operations did): a message, exit 0; -o json null", async (t) => {
  world.operations = [backup, removal];
  const r = await muster(["upgrade", "status"]);
  t.equal(r.code, 0, r.stderr);
  t.equal(
    r.stdout,
    "no upgrade has run on this cluster (start one with `muster upgrade --version vX.Y.Z+rke2rN`)",
  );
  const j = await muster(["upgrade", "status", "-o", "json"]);
  t.equal(j.code, 0, j.stderr);
  t.equal(JSON.parse(j.stdout), null);
  world.operations = [];
  t.match((await muster(["upgrade", "status"])).stdout, /^no upgrade has run on this cluster/);
});

t.test("-o json: the operation exactly as the API returns it", async (t) => {
  world.operations = [backup, removal, running, failed];
  const r = await muster(["upgrade", "status", "-o", "json"]);
  t.equal(r.code, 0, r.stderr);
  t.same(JSON.parse(r.stdout), running);
  t.strictSame(
    Object.keys(JSON.parse(r.stdout)).sort(),
    Object.keys(running).sort(),
    "no field added or dropped",
  );
  world.operations = [removal, failed];
  t.same(JSON.parse((await muster(["-o", "json", "upgrade", "status"])).stdout), failed);
});

t.test("errors: the coordinator's message exit 1, a broken answer exit 1, usage exit 2", async (t) => {
  world.operations = [running];
  const denied = await muster(["upgrade", "status"], "wrong-token");
  t.equal(denied.code, 1);
  t.match(denied.stderr, /Missing or invalid credentials \(check MUSTER_TOKEN or --token-file\)/);
  t.equal(denied.stdout, "");

  world.status = 500;
  t.teardown(() => {
    world.status = 200;
  });
  const down = await muster(["upgrade", "status"]);
  t.equal(down.code, 1);
  t.match(down.stderr, /the store is locked/);
  world.status = 200;

  world.operations = [{ ...running, state: "exploded" }];
  const broken = await muster(["upgrade", "status"]);
  t.equal(broken.code, 1);
  t.match(broken.stderr, /not what this CLI expects \(operations\.0\.state/);
  t.equal(broken.stdout, "");

  const asked = world.gets.length;
  for (const [argv, message] of [
    [["upgrade", "status", "extra"], /^muster: unexpected argument extra$/],
    [["upgrade", "status", "--version", V], /^muster: upgrade status takes no --version/],
    [["upgrade", "status", "--drain"], /^muster: upgrade status takes no --drain/],
    [["upgrade", "statu"], /^muster: unknown upgrade action statu \(actions: status\)$/],
    [["upgrade", "status", "-o", "yaml"], /^muster: -o\/--output: must be text or json, got yaml$/],
  ] as const) {
    const r = await muster([...argv]);
    t.equal(r.code, 2, argv.join(" "));
    t.match(r.stderr, message);
  }
  t.equal(world.gets.length, asked, "a usage error asks nothing");
});

t.test("--help names the subcommand and its exit code", async (t) => {
  const r = await muster(["upgrade", "--help"]);
  t.equal(r.code, 0);
  t.match(r.stdout, /^Usage: muster upgrade --version .* \| muster upgrade status \[-o json\]$/m);
  t.match(r.stdout, /`muster upgrade status` shows the upgrade in flight, else the newest one that ended/);
  t.match(r.stdout, /It exits 0 whenever the coordinator answers,/);
  t.match(r.stdout, /or null when no upgrade has run/);
  // upgrade's own --version, not the global "print the version and exit"
  t.match(r.stdout, /\n {6}--version vX\.Y\.Z\+rke2rN +the RKE2 version to upgrade to/);
  t.notMatch(r.stdout, /print the version and exit/);
  const top = await muster(["--help"]);
  t.match(top.stdout, /\n {2}upgrade +rolling RKE2 upgrade.*`status` shows the latest\n/);
});
