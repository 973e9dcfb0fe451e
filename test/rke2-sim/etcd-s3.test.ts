// The simulator's S3 snapshots against a real S3-protocol server (the lab's, packages/lab/src/cluster/
// s3-server-main.ts, checking SigV4): with etcd-s3 in config.yaml, scheduled and on-demand snapshots
// are uploaded, `ls` lists the bucket (s3:// locations), retention prunes both copies, and
// `--cluster-reset --cluster-reset-restore-path NAME` downloads NAME from the bucket and restores it.
import { execFile, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { REPO } from "@muster/lab/cluster/test-cluster";
import { nodeBinary, SIM_DIR } from "@muster/rke2-sim/paths";
import { RESET_MESSAGE } from "@muster/rke2-sim/rke2/cluster-reset";
import t from "tap";
import { stringify } from "yaml";
import { commandExists, GiveUp, get, SimNode, waitFor } from "./testkit.ts";

const run = promisify(execFile);

if (!commandExists("etcd") || !commandExists("etcdctl")) {
  t.plan(0, "etcd/etcdctl not installed (Debian etcd-server, etcd-client)");
} else {
  const root = mkdtempSync(path.join(tmpdir(), "rke2-sim-s3-"));
  const nodes: SimNode[] = [];
  const s3ip = "127.87.6.9";
  const port = 19000 + (process.pid % 500);
  const store = path.join(root, "s3-store");
  mkdirSync(store);
  const bucket = "sim-snapshots";
  const folder = "etcd/sim";
  const accessKey = "simaccess";
  const secretKey = "sim-secret-key-0123456789";
  const settings = path.join(root, "s3.json");
  writeFileSync(
    settings,
    JSON.stringify({ address: s3ip, port, directory: store, bucket, accessKey, secretKey }),
    { mode: 0o600 },
  );
  const s3 = spawn(nodeBinary(), ["packages/lab/src/cluster/s3-server-main.ts", settings], {
    cwd: REPO,
    stdio: ["ignore", "pipe", "inherit"],
  });
  t.teardown(() => {
    for (const n of nodes) n.kill();
    s3.kill("SIGTERM");
    rmSync(root, { recursive: true, force: true });
  });
  const s3Ready = new Promise<string>((resolve, reject) => {
    s3.stdout.once("data", (d) => resolve(String(d)));
    s3.once("exit", (c) => reject(new Error(`the S3 server exited ${c}`)));
  });

  const ip = "127.87.6.1";
  const endpoint = `http://${ip}:2379`;
  const s3Config = {
    "etcd-s3": true,
    "etcd-s3-endpoint": `${s3ip}:${port}`,
    "etcd-s3-bucket": bucket,
    "etcd-s3-folder": folder,
    "etcd-s3-region": "us-east-1",
    "etcd-s3-access-key": accessKey,
    "etcd-s3-secret-key": secretKey,
    "etcd-s3-insecure": true,
  };
  const spec = {
    role: "server" as const,
    name: "s1",
    ip,
    config: {
      token: "sim-s3-password-0001",
      ...s3Config,
      "etcd-snapshot-schedule-cron": "@every 2s",
      "etcd-snapshot-retention": 2,
    },
  };
  const config = path.join(root, "s1", "config.yaml");
  const rke2 = (args: string[], configFile = config) =>
    run(nodeBinary(), [path.join(SIM_DIR, "rke2.ts"), ...args, "--config", configFile], {
      env: { ...process.env, RKE2_SIM_INIT_SECONDS: "0" },
    }).then(
      (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
      (e: { code: number; stdout: string; stderr: string }) => ({
        code: e.code,
        stdout: e.stdout,
        stderr: e.stderr,
      }),
    );
  const etcdctl = async (...args: string[]) =>
    (
      await run("etcdctl", [`--endpoints=${endpoint}`, ...args], {
        env: { ...process.env, ETCDCTL_API: "3" },
      })
    ).stdout;
  /** Snapshot names in the S3 server's own storage (not through the S3 API). */
  const stored = () => {
    try {
      return readdirSync(path.join(store, bucket, ...folder.split("/")))
        .filter((f) => f.endsWith("._S3rver_object"))
        .map((f) => f.slice(0, -"._S3rver_object".length));
    } catch {
      return [];
    }
  };
  const up = async () => {
    const n = new SimNode(root, spec);
    nodes.push(n);
    await waitFor("s1 ready", async () => {
      if (n.exitCode !== undefined) throw new GiveUp(`s1 exited ${n.exitCode}:\n${n.log()}`);
      if (!n.log().includes("is up and running")) return false;
      return (await get(`https://${ip}:6443/readyz`).catch(() => ({ body: "" }))).body === "ok";
    });
    return n;
  };

  t.test("scheduled and on-demand snapshots go to S3; a reset restores one from S3", async (t) => {
    t.match(await s3Ready, /^listening http:/);
    const first = await up();
    const snapDir = path.join(first.dataDir, "server", "db", "snapshots");

    // The schedule (@every 2s) with retention 2: at least three taken, two kept, in both places.
    await waitFor(
      "three scheduled snapshots",
      async () => (first.log().match(/Snapshot etcd-snapshot-s1-\d+ saved\./g) ?? []).length >= 3,
      60_000,
    );
    await waitFor(
      "retention to settle",
      async () => {
        const local = readdirSync(snapDir).filter((f) => f.startsWith("etcd-snapshot-s1-"));
        const remote = stored().filter((f) => f.startsWith("etcd-snapshot-s1-"));
        return local.length === 2 && remote.length === 2;
      },
      20_000,
    );
    t.pass("scheduled snapshots are pruned to 2 locally and in S3");

    await etcdctl("put", "/muster-test/marker", "before");
    const saved = await rke2(["etcd-snapshot", "save", "--name", "offsite"]);
    t.equal(saved.code, 0, saved.stderr);
    const name = /Snapshot (offsite-s1-\d+) saved\./.exec(saved.stderr)?.[1];
    t.ok(name, "the save names the snapshot");
    t.match(saved.stderr, /S3 upload complete for offsite-s1-/);
    t.ok(stored().includes(name!), "the object is in the S3 server's storage");

    const listed = await rke2(["etcd-snapshot", "ls"]);
    t.equal(listed.code, 0, listed.stderr);
    const rows = listed.stdout
      .split("\n")
      .filter((l) => l.startsWith(`${name} `))
      .map((l) => l.split(/\s+/));
    t.same(
      rows.map((r) => r[1]).sort(),
      [`file://${path.join(snapDir, name!)}`, `s3://${bucket}/${folder}/${name}`],
      "ls lists the local copy and the S3 object",
    );
    t.equal(rows[0]![2], rows[1]![2], "the same size in both places");

    // A wrong secret key: the server checks signatures, so the upload is refused. The first
    // request is the bucket HEAD, whose 403 has no body: RKE2 then says "Access Denied.".
    const bad = path.join(root, "bad.yaml");
    writeFileSync(
      bad,
      stringify({
        "node-name": "s1",
        "node-ip": ip,
        "data-dir": first.dataDir,
        ...s3Config,
        "etcd-s3-secret-key": "wrong-secret-key-000",
      }),
      { mode: 0o600 },
    );
    const refused = await rke2(["etcd-snapshot", "save", "--name", "badkey"], bad);
    t.not(refused.code, 0, "a wrongly signed upload fails");
    t.match(
      refused.stderr,
      /failed to test for existence of bucket \S+: (Access Denied\.|.*signature)/i,
      "refused for its credentials",
    );
    t.notOk(
      stored().some((f) => f.startsWith("badkey-")),
      "nothing stored with a wrong key",
    );

    await etcdctl("put", "/muster-test/marker", "after");
    first.kill();
    await first.exited;
    rmSync(path.join(snapDir, name!)); // only the S3 copy is left
    const reset = await rke2(["server", "--cluster-reset", `--cluster-reset-restore-path=${name}`]);
    t.equal(reset.code, 0, reset.stderr);
    t.match(reset.stderr, new RegExp(`Retrieving etcd snapshot ${name} from S3`));
    t.ok(reset.stderr.includes(JSON.stringify(RESET_MESSAGE).slice(1, -1)), "RKE2's reset message");
    t.ok(existsSync(path.join(snapDir, name!)), "the snapshot was downloaded into the snapshot dir");

    await up();
    t.equal(
      (await etcdctl("get", "/muster-test/marker", "--print-value-only")).trim(),
      "before",
      "the key written after the S3 snapshot is gone",
    );

    const deleted = await rke2(["etcd-snapshot", "delete", name!]);
    t.equal(deleted.code, 0, deleted.stderr);
    t.notOk(stored().includes(name!), "delete removes the S3 object");
  });
}
