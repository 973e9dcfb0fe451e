import type { BackupList, BackupView, NodeView } from "@muster/shared";
import type { TaskDispatcher } from "../tasks/dispatcher.ts";
import type { OperationDefinition, StepKind } from "./types.ts";

// On-demand etcd snapshots (docs/reference.md#backups): one step on one joined, connected server,
// through its agent (rke2.snapshot-save). A backup does not hold the control-plane lease
// (docs/architecture.md, invariant 9): RKE2 snapshots a serving etcd.

const SAVE_TIMEOUT_MS = 15 * 60_000;
const LIST_TIMEOUT_MS = 20_000;

interface SaveArgs {
  node: string;
  name?: string;
}

export function backupDefinition(deps: { tasks: TaskDispatcher }): OperationDefinition {
  const save: StepKind<SaveArgs> = {
    async run(ctx) {
      const { snapshot } = await deps.tasks.run(
        ctx.args.node,
        { kind: "rke2.snapshot-save", ...(ctx.args.name ? { name: ctx.args.name } : {}) },
        { timeoutMs: SAVE_TIMEOUT_MS, id: ctx.taskId(), onProgress: ctx.progress, signal: ctx.signal },
      );
      return { message: `snapshot ${snapshot.name} saved on ${ctx.args.node} (${snapshot.size} bytes)` };
    },
  };
  return { type: "backup", controlPlane: false, kinds: { "snapshot-save": save as StepKind<never> } };
}

/** The server to snapshot on: a joined server with a connected agent (the init server last). */
export function snapshotServer(nodes: NodeView[]): string | null {
  const ready = nodes.filter((n) => n.role === "server" && n.state === "joined" && n.connected);
  // The init server first: a restore resets etcd on the server holding the snapshot, and only the
  // init server can be that one (its config has no `server:`; wiped and started, it would form a new
  // cluster instead of rejoining the reset one).
  ready.sort((a, b) => Number(b.init) - Number(a.init));
  return ready[0]?.name ?? null;
}

/** Every server's `rke2 etcd-snapshot ls`, merged: local ones per node, S3 ones once by name. */
export async function listBackups(tasks: TaskDispatcher, nodes: NodeView[]): Promise<BackupList> {
  const servers = nodes.filter((n) => n.role === "server" && n.state === "joined");
  const warnings: string[] = [];
  const backups: BackupView[] = [];
  const seenS3 = new Set<string>();
  const answers = await Promise.all(
    servers.map(async (n) => {
      if (!n.connected) return { node: n.name, error: "its agent is not connected" };
      try {
        return {
          node: n.name,
          result: await tasks.run(n.name, { kind: "rke2.snapshot-list" }, { timeoutMs: LIST_TIMEOUT_MS }),
        };
      } catch (err) {
        return { node: n.name, error: (err as Error).message };
      }
    }),
  );
  for (const a of answers) {
    if (!("result" in a) || !a.result) {
      warnings.push(`${a.node}: ${a.error}`);
      continue;
    }
    for (const s of a.result.snapshots) {
      const location = s.location.startsWith("s3://") ? "s3" : "local";
      if (location === "s3") {
        if (seenS3.has(s.name)) continue;
        seenS3.add(s.name);
      }
      backups.push({ name: s.name, node: a.node, size: s.size, createdAt: s.createdAt, location });
    }
  }
  backups.sort((x, y) => x.createdAt.localeCompare(y.createdAt) || x.name.localeCompare(y.name));
  return warnings.length > 0 ? { backups, warnings } : { backups };
}
