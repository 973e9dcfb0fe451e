import path from "node:path";
import { runOperator } from "@muster/cli/main";
import t from "tap";
import { makeTestTls } from "../coordinator/transport/delivery/helpers/tls-cert.ts";
import { ADMIN_TOKEN, startFakeApi } from "./helpers/fake-api.ts";

// muster backup [--name N] and muster backups (docs/reference.md#muster).

const tls = makeTestTls();
const api = await startFakeApi(tls);
t.teardown(() => api.close());
const dir = t.testdir({ "ca.crt": tls.caCert });
const CA = path.join(dir, "ca.crt");

async function muster(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runOperator([...argv, "--ca-file", CA], {
    env: { MUSTER_SERVER: api.url, MUSTER_TOKEN: ADMIN_TOKEN },
    out: (s) => out.push(s),
    err: (s) => err.push(s),
    defaults: { server: "https://127.0.0.1:1", caFile: "/nonexistent/ca.crt", tokenFile: "/nonexistent/t" },
    now: () => Date.parse("2030-01-01T00:00:00.000Z"),
    followIntervalMs: 10,
  });
  return { code, stdout: out.join("\n"), stderr: err.join("\n") };
}

t.test("backup: POST /v1/backups with the name, prints the operation", async (t) => {
  const r = await muster(["backup", "--name", "nightly"]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /backup started: operation op-backup-000001/);
  t.same(api.state.backupBodies.at(-1), { name: "nightly" });
  const j = await muster(["backup", "-o", "json"]);
  t.match(JSON.parse(j.stdout), { operation: { type: "backup" } });
  t.same(api.state.backupBodies.at(-1), {});
  const bad = await muster(["backup", "--name", "Bad/Name"]);
  t.equal(bad.code, 2);
  t.match(bad.stderr, /--name: must be lowercase/);
});

t.test("backups: a table with every snapshot and the servers not asked", async (t) => {
  const r = await muster(["backups"]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /^NAME\s+NODE\s+LOCATION\s+SIZE\s+CREATED/);
  t.match(r.stdout, /nightly-cp-1-1796183600\s+cp-1\s+local\s+70000\s+2026-12-02T04:33:20Z/);
  t.match(r.stdout, /warning: cp-2: its agent is not connected/);
  const j = await muster(["backups", "-o", "json"]);
  t.equal(JSON.parse(j.stdout).backups.length, 1);
});

t.test("restore: refuses without --yes; POST /v1/restores with the snapshot", async (t) => {
  const before = api.state.backupBodies.length;
  const no = await muster(["restore", "nightly-cp-1-1796183600"]);
  t.equal(no.code, 2);
  t.match(no.stderr, /--yes/);
  t.equal(api.state.backupBodies.length, before, "nothing sent without --yes");
  const missing = await muster(["restore", "--yes"]);
  t.equal(missing.code, 2);
  t.match(missing.stderr, /SNAPSHOT/);
  const r = await muster(["restore", "nightly-cp-1-1796183600", "--yes", "--no-wait"]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /restore from nightly-cp-1-1796183600 started: operation op-restore-000001/);
  t.same(api.state.backupBodies.at(-1), { snapshot: "nightly-cp-1-1796183600" });
});

t.test("upgrade: POST /v1/upgrades with the version and drain; a refusal is said", async (t) => {
  const none = await muster(["upgrade"]);
  t.equal(none.code, 2);
  t.match(none.stderr, /--version/);
  const bad = await muster(["upgrade", "--version", "1.34"]);
  t.equal(bad.code, 2);
  t.match(bad.stderr, /not an RKE2 version/);
  const r = await muster(["upgrade", "--version", "v1.34.1+rke2r1", "--drain", "--no-wait"]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /upgrade to v1\.34\.1\+rke2r1 started: operation op-upgrade-000001/);
  t.same(api.state.backupBodies.at(-1), { version: "v1.34.1+rke2r1", drain: true });
  const down = await muster(["upgrade", "--version", "v1.32.0+rke2r1"]);
  t.equal(down.code, 1);
  t.match(down.stderr, /v1\.32\.0\+rke2r1 is older than the cluster's v1\.33\.5\+rke2r1/);
});

t.test("restore follows the operation's steps on stderr until it ends", async (t) => {
  const r = await muster(["restore", "nightly-cp-1-1796183600", "--yes"]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stderr, /muster: restoring from nightly-cp-1-1796183600 \(operation op-restore-000001\)/);
  t.match(r.stderr, /muster: reset etcd on cp-1: running/, "a step in progress is shown");
  t.match(r.stderr, /muster: reset etcd on cp-1: succeeded \(membership reset\)/, "and its end");
  t.equal(r.stderr.match(/stop rke2-server on cp-1: succeeded/g)?.length, 1, "an unchanged step once");
  t.match(r.stdout, /etcd restored from nightly-cp-1-1796183600 \(operation op-restore-000001\)/);

  const failed = await muster(["restore", "broken-cp-1-1796183600", "--yes"]);
  t.equal(failed.code, 1, "a failed restore exits 1");
  t.match(failed.stderr, /restore failed: reset etcd on cp-1: snapshot file missing/);
  t.notMatch(failed.stdout, /restored/);
});
