// The simulator's snapshots and cluster reset on a real etcd (docs/rke2-behaviour.md#snapshots-and-restore):
// `rke2 etcd-snapshot save|ls|delete` and `rke2 server --cluster-reset --cluster-reset-restore-path`,
// proven by a marker key written after the snapshot that the restore takes away.
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { readMembership } from "@muster/rke2-sim";
import { nodeBinary, SIM_DIR } from "@muster/rke2-sim/paths";
import { RESET_MESSAGE } from "@muster/rke2-sim/rke2/cluster-reset";
import t from "tap";
import { commandExists, GiveUp, get, SimNode, waitFor } from "./testkit.ts";

const run = promisify(execFile);

if (!commandExists("etcd") || !commandExists("etcdctl")) {
  t.plan(0, "etcd/etcdctl not installed (Debian etcd-server, etcd-client)");
} else {
  const root = mkdtempSync(path.join(tmpdir(), "rke2-sim-snapshot-"));
  const nodes: SimNode[] = [];
  t.teardown(() => {
    for (const n of nodes) n.kill();
    rmSync(root, { recursive: true, force: true });
  });
  const ip = "127.87.5.1";
  const endpoint = `http://${ip}:2379`;
  const spec = { role: "server" as const, name: "s1", ip, config: { token: "sim-snapshot-password-01" } };
  const config = path.join(root, "s1", "config.yaml");
  const rke2 = (...args: string[]) =>
    run(nodeBinary(), [path.join(SIM_DIR, "rke2.ts"), ...args, "--config", config], {
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

  t.test("save, ls, cluster-reset from the snapshot, delete", async (t) => {
    const first = await up();
    await etcdctl("put", "/muster-test/marker", "before");

    const saved = await rke2("etcd-snapshot", "save", "--name", "pre-restore");
    t.equal(saved.code, 0, saved.stderr);
    const name = /Snapshot (pre-restore-s1-\d+) saved\./.exec(saved.stderr)?.[1];
    t.ok(name, `RKE2's save line names the snapshot: ${saved.stderr.trim()}`);
    const listed = await rke2("etcd-snapshot", "ls");
    t.equal(listed.code, 0, listed.stderr);
    const lines = listed.stdout.trim().split("\n");
    t.match(lines[0], /^Name\s+Location\s+Size\s+Created$/, "RKE2's table header");
    const row = lines.find((l) => l.startsWith(`${name} `))!.split(/\s+/);
    const file = path.join(first.dataDir, "server", "db", "snapshots", name!);
    t.equal(row[1], `file://${file}`);
    t.ok(Number(row[2]) > 1000, `a real etcd snapshot (${row[2]} bytes)`);
    t.match(row[3], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);

    await etcdctl("put", "/muster-test/marker", "after");
    first.kill();
    await first.exited;
    const reset = await rke2("server", "--cluster-reset", `--cluster-reset-restore-path=${file}`);
    t.equal(reset.code, 0, reset.stderr);
    t.ok(reset.stderr.includes(JSON.stringify(RESET_MESSAGE).slice(1, -1)), "RKE2's reset message");
    t.match(reset.stderr, /Pre-restore etcd database moved to/);

    await up();
    t.equal(
      (await etcdctl("get", "/muster-test/marker", "--print-value-only")).trim(),
      "before",
      "the key written after the snapshot is gone",
    );
    const members = await readMembership(endpoint);
    t.equal(members.length, 1, "one member after the reset");
    t.notOk(members[0]!.isLearner);

    const deleted = await rke2("etcd-snapshot", "delete", name!);
    t.equal(deleted.code, 0, deleted.stderr);
    t.notOk(existsSync(file));
    t.notOk((await rke2("etcd-snapshot", "ls")).stdout.includes(name!), "gone from ls");

    const missing = await rke2("server", "--cluster-reset", "--cluster-reset-restore-path=/nonexistent/snap");
    t.equal(missing.code, 1, "a missing snapshot is fatal");
    t.match(missing.stderr, /level=fatal.*snapshot path does not exist/);
  });
}
