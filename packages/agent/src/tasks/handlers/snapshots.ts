import type { SnapshotInfo } from "@muster/shared";
import { findInstalledRke2 } from "../../rke2-paths.ts";
import { reportWhile } from "../progress.ts";
import { errorLine } from "../scrub.ts";
import type { TaskContext } from "../types.ts";
import { TaskFailed, type TaskHandler } from "../types.ts";

// etcd snapshots through RKE2's own commands (docs/rke2-behaviour.md#snapshots-and-restore): RKE2
// knows its snapshot dir, names and S3 settings from config.yaml, so the agent never reaches into
// etcd itself. `ls` prints a table (Name, Location, Size, Created) which is parsed here.

const SNAPSHOT_TIMEOUT_MS = 10 * 60_000;
const RESET_TIMEOUT_MS = 15 * 60_000;
/** What RKE2 prints when the reset is done (k3s pkg/etcd). */
export const RESET_DONE = "Managed etcd cluster membership has been reset";

async function rke2Binary(ctx: TaskContext): Promise<string> {
  const found = await findInstalledRke2(ctx.host.files, ctx.host.exec);
  if (!found) throw new TaskFailed("RKE2 is not installed on this node");
  return ctx.host.files.resolve(found.binary);
}

/** Rows of `rke2 etcd-snapshot ls`; lines that are not a row (warnings, the header) are skipped. */
export function parseSnapshotTable(stdout: string): SnapshotInfo[] {
  const rows: SnapshotInfo[] = [];
  for (const line of stdout.split("\n")) {
    const cols = line.trim().split(/\s+/);
    if (cols.length !== 4 || cols[0] === "Name") continue;
    const [name, location, size, createdAt] = cols as [string, string, string, string];
    if (!/^\d+$/.test(size) || !/^(file|s3):\/\//.test(location)) continue;
    rows.push({ name, location, size: Number(size), createdAt });
  }
  return rows;
}

async function list(ctx: TaskContext, rke2: string): Promise<SnapshotInfo[]> {
  const r = await ctx.host.exec.run(rke2, ["etcd-snapshot", "ls"], {
    timeoutMs: SNAPSHOT_TIMEOUT_MS,
    signal: ctx.signal,
  });
  if (r.exitCode !== 0)
    throw new TaskFailed(`rke2 etcd-snapshot ls failed (exit ${r.exitCode}): ${errorLine(r.stderr)}`);
  return parseSnapshotTable(r.stdout);
}

export const rke2SnapshotList: TaskHandler<"rke2.snapshot-list"> = async (_task, ctx) => ({
  snapshots: await list(ctx, await rke2Binary(ctx)),
});

export const rke2SnapshotSave: TaskHandler<"rke2.snapshot-save"> = async (task, ctx) => {
  const rke2 = await rke2Binary(ctx);
  const args = ["etcd-snapshot", "save", ...(task.name ? ["--name", task.name] : [])];
  const r = await reportWhile(
    ctx,
    ctx.host.exec.run(rke2, args, { timeoutMs: SNAPSHOT_TIMEOUT_MS, signal: ctx.signal }),
    (s) => `taking an etcd snapshot: ${s} s`,
  );
  if (r.exitCode !== 0)
    throw new TaskFailed(`rke2 etcd-snapshot save failed (exit ${r.exitCode}): ${errorLine(r.stderr)}`);
  // RKE2 logs `Snapshot <name> saved.` (and, with S3, its upload) on stderr.
  const name = /Snapshot (\S+) saved\./.exec(`${r.stderr}\n${r.stdout}`)?.[1];
  if (!name)
    throw new TaskFailed(
      `rke2 etcd-snapshot save did not say which snapshot it saved: ${errorLine(r.stderr)}`,
    );
  const rows = (await list(ctx, rke2)).filter((s) => s.name === name);
  const snapshot = rows.find((s) => s.location.startsWith("file://")) ?? rows[0];
  if (!snapshot)
    throw new TaskFailed(`snapshot ${name} was saved but rke2 etcd-snapshot ls does not list it`);
  return { snapshot };
};

export const rke2ClusterReset: TaskHandler<"rke2.cluster-reset"> = async (task, ctx) => {
  if (await ctx.host.systemd.isActive("rke2-server"))
    throw new TaskFailed("rke2-server is running: stop it on every server before a cluster reset");
  const rke2 = await rke2Binary(ctx);
  // RKE2 with etcd-s3 in config.yaml takes the restore path as the name of an object in the bucket
  // and downloads it; so a snapshot listed in S3 is restored by its name, and one only on this disk
  // from its file with S3 turned off for this run (else RKE2 would look for the path in the bucket).
  const rows = (await list(ctx, rke2)).filter((s) => s.name === task.snapshot);
  const inS3 = rows.some((s) => s.location.startsWith("s3://"));
  const local = rows.find((s) => s.location.startsWith("file://"));
  if (!inS3 && !local) throw new TaskFailed(`snapshot ${task.snapshot} is neither on this server nor in S3`);
  const restoreArgs = inS3
    ? [`--cluster-reset-restore-path=${task.snapshot}`]
    : [`--cluster-reset-restore-path=${local!.location.slice("file://".length)}`, "--etcd-s3=false"];
  const r = await reportWhile(
    ctx,
    ctx.host.exec.run(rke2, ["server", "--cluster-reset", ...restoreArgs], {
      timeoutMs: RESET_TIMEOUT_MS,
      signal: ctx.signal,
    }),
    (s) => `restoring etcd from ${task.snapshot}: ${s} s`,
  );
  const out = `${r.stderr}\n${r.stdout}`;
  if (!out.includes(RESET_DONE))
    throw new TaskFailed(
      `rke2 server --cluster-reset did not finish (exit ${r.exitCode}): ${errorLine(r.stderr) || "no output"}`,
    );
  return { message: `${RESET_DONE} from ${task.snapshot}` };
};
