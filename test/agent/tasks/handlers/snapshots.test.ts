import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { ExecResult } from "@muster/agent/adapters/types";
import {
  parseSnapshotTable,
  rke2ClusterReset,
  rke2SnapshotList,
  rke2SnapshotSave,
} from "@muster/agent/tasks/handlers/snapshots";
import { TaskFailed } from "@muster/agent/tasks/types";
import { TaskResultSchemas } from "@muster/shared";
import t from "tap";
import { fakeExec, fakeSystemd, ok } from "../../helpers/fakes.ts";
import { taskContext } from "../../helpers/task-context.ts";

// rke2.snapshot-save / -list / cluster-reset run RKE2's own commands and read RKE2's output
// (docs/rke2-behaviour.md#snapshots-and-restore); the simulator's real-etcd test covers the commands.

const SNAP = "/var/lib/rancher/rke2/server/db/snapshots";
const TABLE = `time="2026-12-02T04:00:00Z" level=warning msg="Unknown flag --foo found in config.yaml, skipping"
Name                               Location                                                            Size  Created
on-demand-cp-1-1796180000          file://${SNAP}/on-demand-cp-1-1796180000          65568 2026-12-02T03:33:20Z
nightly-cp-1-1796183600            file://${SNAP}/nightly-cp-1-1796183600            70000 2026-12-02T04:33:20Z
nightly-cp-1-1796183600            s3://muster-snaps/lab/nightly-cp-1-1796183600                       70000 2026-12-02T04:33:21Z
`;

function rke2Host(root: string, handler: (args: readonly string[]) => ExecResult) {
  mkdirSync(path.join(root, "usr/local/bin"), { recursive: true });
  writeFileSync(path.join(root, "usr/local/bin/rke2"), "#!/bin/sh\n", { mode: 0o755 });
  return fakeExec((cmd, args) => {
    if (args[0] === "--version") return ok("rke2 version v1.33.5+rke2r1 (abc)\n");
    if (cmd !== path.join(root, "usr/local/bin/rke2"))
      return { exitCode: 127, stdout: "", stderr: "", timedOut: false };
    return handler(args);
  });
}

t.test("the ls table: rows with a file:// or s3:// location; warnings and the header skipped", async (t) => {
  const rows = parseSnapshotTable(TABLE);
  t.equal(rows.length, 3);
  t.same(rows[0], {
    name: "on-demand-cp-1-1796180000",
    location: `file://${SNAP}/on-demand-cp-1-1796180000`,
    size: 65568,
    createdAt: "2026-12-02T03:33:20Z",
  });
  t.equal(rows[2]!.location, "s3://muster-snaps/lab/nightly-cp-1-1796183600");
  t.same(parseSnapshotTable("Name Location Size Created\n"), [], "no snapshots yet");
});

t.test(
  "rke2.snapshot-save runs etcd-snapshot save --name and answers with the listed snapshot",
  async (t) => {
    const root = t.testdir();
    const ex = rke2Host(root, (args) => {
      if (args[1] === "save")
        return {
          exitCode: 0,
          stdout: "",
          stderr: 'time="x" level=info msg="Snapshot nightly-cp-1-1796183600 saved."\n',
          timedOut: false,
        };
      return ok(TABLE);
    });
    const { ctx } = taskContext(root, { exec: ex.exec });
    const result = await rke2SnapshotSave({ kind: "rke2.snapshot-save", name: "nightly" }, ctx);
    t.same(
      ex.calls.filter((c) => c.args[0] === "etcd-snapshot").map((c) => c.args.join(" ")),
      ["etcd-snapshot save --name nightly", "etcd-snapshot ls"],
    );
    t.equal(result.snapshot.location, `file://${SNAP}/nightly-cp-1-1796183600`, "the local copy first");
    t.ok(TaskResultSchemas["rke2.snapshot-save"].safeParse(result).success, "matches the result schema");

    const broken = rke2Host(root, () => ({
      exitCode: 1,
      stdout: "",
      stderr: 'level=fatal msg="etcd down"\n',
      timedOut: false,
    }));
    const b = taskContext(root, { exec: broken.exec });
    await t.rejects(rke2SnapshotSave({ kind: "rke2.snapshot-save" }, b.ctx), TaskFailed);
    const none = taskContext(path.join(root, "empty"), { exec: fakeExec(() => ok()).exec });
    await t.rejects(rke2SnapshotSave({ kind: "rke2.snapshot-save" }, none.ctx), { message: /not installed/ });
  },
);

t.test("rke2.snapshot-list answers every row", async (t) => {
  const root = t.testdir();
  const ex = rke2Host(root, () => ok(TABLE));
  const { ctx } = taskContext(root, { exec: ex.exec });
  const result = await rke2SnapshotList({ kind: "rke2.snapshot-list" }, ctx);
  t.equal(result.snapshots.length, 3);
});

t.test(
  "rke2.cluster-reset: refuses while rke2-server runs; from S3 by name, a local-only one from its file with S3 off; needs RKE2's message",
  async (t) => {
    const root = t.testdir();
    const running = taskContext(root, { systemd: fakeSystemd({ "rke2-server": { active: true } }).systemd });
    await t.rejects(rke2ClusterReset({ kind: "rke2.cluster-reset", snapshot: "x-1" }, running.ctx), {
      message: /rke2-server is running/,
    });

    const ex = rke2Host(root, (args) => {
      if (args[0] === "etcd-snapshot") return ok(TABLE);
      return {
        exitCode: 0,
        stdout: "",
        stderr:
          'level=info msg="Managed etcd cluster membership has been reset, restart without --cluster-reset flag now."\n',
        timedOut: false,
      };
    });
    const { ctx } = taskContext(root, {
      exec: ex.exec,
      systemd: fakeSystemd({ "rke2-server": { active: false } }).systemd,
    });
    const done = await rke2ClusterReset(
      { kind: "rke2.cluster-reset", snapshot: "nightly-cp-1-1796183600" },
      ctx,
    );
    t.match(done.message, /membership has been reset/);
    t.same(
      ex.calls.at(-1)!.args,
      ["server", "--cluster-reset", "--cluster-reset-restore-path=nightly-cp-1-1796183600"],
      "a snapshot listed in S3: by its name (RKE2 downloads it)",
    );
    await rke2ClusterReset({ kind: "rke2.cluster-reset", snapshot: "on-demand-cp-1-1796180000" }, ctx);
    t.same(
      ex.calls.at(-1)!.args,
      [
        "server",
        "--cluster-reset",
        `--cluster-reset-restore-path=${SNAP}/on-demand-cp-1-1796180000`,
        "--etcd-s3=false",
      ],
      "a local-only snapshot: its file, S3 off for the run",
    );
    await t.rejects(rke2ClusterReset({ kind: "rke2.cluster-reset", snapshot: "unknown-1" }, ctx), {
      message: /neither on this server nor in S3/,
    });
    t.same(ex.calls.at(-1)!.args, ["etcd-snapshot", "ls"], "only ls ran: no reset for an unknown snapshot");

    const failing = rke2Host(root, (args) =>
      args[0] === "etcd-snapshot"
        ? ok(TABLE)
        : { exitCode: 1, stdout: "", stderr: 'level=fatal msg="snapshot not found"\n', timedOut: false },
    );
    const f = taskContext(root, { exec: failing.exec });
    await t.rejects(
      rke2ClusterReset({ kind: "rke2.cluster-reset", snapshot: "nightly-cp-1-1796183600" }, f.ctx),
      {
        message: /did not finish \(exit 1\).*snapshot not found/,
      },
    );
  },
);
