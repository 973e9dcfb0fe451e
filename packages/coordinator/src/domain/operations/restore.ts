import { setTimeout as sleep } from "node:timers/promises";
import { type BackupView, type NodeView, SnapshotNotFound, SnapshotNotOnInitServer } from "@muster/shared";
import type { OperationDeps } from "./definitions.ts";
import { KUBE_MS, stepKit } from "./remove.ts";
import { type OperationDefinition, type StepContext, StepFailed, type StepKind } from "./types.ts";

// Restoring the cluster's etcd from a snapshot (docs/operations.md#restore-etcd-from-a-snapshot),
// in RKE2's order (docs/rke2-behaviour.md#snapshots-and-restore): a snapshot of the current state
// first when etcd answers; rke2-server stopped on every server (killall: a plain stop leaves pods
// such as kube-vip running); `--cluster-reset --cluster-reset-restore-path` on the server that
// holds the snapshot; that server started; then each other server's server/db wiped and the server
// started, ONE AT A TIME: the next rejoin starts only once the previous one is a voting member.
// The whole operation holds the control-plane lease, so no join or other operation runs beside it.
// Every step looks at the world first and is safe to run again after a coordinator restart.

export interface RestoreNodeArgs {
  node: string;
  /** The server the cluster is reset on (its etcd answers for the rejoins). */
  reset: string;
  snapshot: string;
}

const RESET_MS = 15 * 60_000;
const START_MS = 10 * 60_000;
const MEMBER_MS = 10 * 60_000;
const RECONNECT_MS = 5 * 60_000;
const POLL_MS = 1000;

type Ctx = StepContext<RestoreNodeArgs>;

export function createRestoreDefinition(deps: OperationDeps): OperationDefinition {
  const { run, memberOf } = stepKit(deps);
  const wait = (signal: AbortSignal) => sleep(POLL_MS, undefined, { signal }).catch(() => undefined);

  /** Polls etcd through the reset server until `done` says yes (or the deadline passes). */
  async function waitEtcd(
    ctx: Ctx,
    ms: number,
    what: string,
    done: (s: Awaited<ReturnType<typeof status>>) => boolean,
  ): Promise<void> {
    const end = deps.now() + ms;
    let last = "no answer yet";
    while (!ctx.signal.aborted) {
      try {
        const s = await status(ctx);
        if (done(s)) return;
        last = `${s.members.length} member(s): ${s.members.map((m) => `${m.name}${m.isLearner ? " (learner)" : ""}`).join(", ")}`;
      } catch (err) {
        last = (err as Error).message;
      }
      if (deps.now() > end) throw new StepFailed(`${ctx.step.name}: ${what} not reached in time (${last})`);
      ctx.progress(`waiting for ${what} (${last})`);
      await wait(ctx.signal);
    }
  }
  const status = (ctx: Ctx) => run(ctx, ctx.args.reset, { kind: "etcd.status" }, KUBE_MS, true);

  const kinds: Record<string, StepKind<RestoreNodeArgs>> = {
    "pre-snapshot": {
      async run(ctx) {
        try {
          const { snapshot } = await run(
            ctx,
            ctx.args.node,
            { kind: "rke2.snapshot-save", name: "pre-restore" },
            RESET_MS,
          );
          return { message: `current state saved as ${snapshot.name} on ${ctx.args.node}` };
        } catch (err) {
          // etcd may be down (the reason to restore): a restore goes on without it.
          return { state: "skipped", message: `no snapshot of the current state: ${(err as Error).message}` };
        }
      },
    },
    stop: {
      async run(ctx) {
        const r = await run(ctx, ctx.args.node, { kind: "rke2.stop", unit: "rke2-server" }, KUBE_MS * 3);
        return { message: r.killed ? "rke2-server stopped (killall)" : "rke2-server stopped" };
      },
    },
    "cluster-reset": {
      async run(ctx) {
        const r = await run(
          ctx,
          ctx.args.node,
          { kind: "rke2.cluster-reset", snapshot: ctx.args.snapshot },
          RESET_MS,
        );
        return { message: r.message };
      },
    },
    "start-reset": {
      async run(ctx) {
        await run(ctx, ctx.args.node, { kind: "rke2.start", unit: "rke2-server" }, START_MS);
        await waitEtcd(ctx, START_MS, "etcd on the restored server", (s) => s.members.length >= 1);
        return { message: `rke2-server started on ${ctx.args.node} with the restored etcd` };
      },
    },
    rejoin: {
      async run(ctx) {
        const { node } = ctx.args;
        const voter = (s: Awaited<ReturnType<typeof status>>) => {
          const m = memberOf(s.members, node);
          return m !== undefined && !m.isLearner;
        };
        // Already back (a re-run after a restart): nothing to wipe.
        let back = false;
        try {
          back = voter(await status(ctx));
        } catch {
          back = false;
        }
        if (back) return { state: "skipped", message: `${node} is already a voting member` };
        await run(ctx, node, { kind: "rke2.stop", unit: "rke2-server" }, KUBE_MS * 3);
        await run(ctx, node, { kind: "rke2.wipe-db" }, KUBE_MS);
        await run(ctx, node, { kind: "rke2.start", unit: "rke2-server" }, START_MS);
        await waitEtcd(ctx, MEMBER_MS, `${node} as a voting etcd member`, voter);
        return { message: `${node} rejoined as a voting member` };
      },
    },
    reconnect: {
      async run(ctx) {
        const end = deps.now() + RECONNECT_MS;
        for (;;) {
          const away = deps.store.nodes
            .summaries()
            .filter((n) => n.state === "joined" && !n.connected)
            .map((n) => n.name);
          if (away.length === 0) return { message: "every joined node is connected" };
          if (deps.now() > end || ctx.signal.aborted)
            return { message: `still reconnecting: ${away.join(", ")}` };
          ctx.progress(`waiting for ${away.join(", ")} to reconnect`);
          await wait(ctx.signal);
        }
      },
    },
  };
  return { type: "restore", controlPlane: true, kinds: kinds as OperationDefinition["kinds"] };
}

/**
 * The steps of a restore of `snapshot`, reset on `reset` (the server that lists it locally, or any
 * joined server for one in S3). Throws when there is no server to restore on.
 */
export function restoreSteps(snapshot: string, reset: string, nodes: NodeView[]) {
  const servers = nodes.filter((n) => n.role === "server" && n.state === "joined").map((n) => n.name);
  if (!servers.includes(reset)) throw new StepFailed(`server ${reset} is not a joined server`);
  const others = servers.filter((s) => s !== reset);
  const args = (node: string) => ({ node, reset, snapshot });
  return [
    { name: `snapshot the current state on ${reset}`, kind: "pre-snapshot", args: args(reset) },
    ...servers.map((s) => ({ name: `stop rke2-server on ${s}`, kind: "stop", args: args(s) })),
    { name: `reset etcd on ${reset} from ${snapshot}`, kind: "cluster-reset", args: args(reset) },
    { name: `start rke2-server on ${reset}`, kind: "start-reset", args: args(reset) },
    ...others.map((s) => ({ name: `rejoin ${s} (server/db wiped)`, kind: "rejoin", args: args(s) })),
    { name: "wait for every node to reconnect", kind: "reconnect", args: args(reset) },
  ];
}

/**
 * The server etcd is reset on for a restore of `snapshot` (`found`: the listings of that name).
 * The init server whenever it is joined: its config has no `server:`, so it cannot be one of the
 * servers that rejoin after the reset (wiped and started, it would form a new cluster). A local
 * snapshot must therefore be one the init server holds (backups are taken there first); one in S3
 * is fetched by it (RKE2 downloads a listed S3 snapshot by name, wherever local copies are, so a
 * copy in S3 is never refused). Without a joined init server: the holder of a local copy, or any
 * connected lister.
 */
export function restoreServer(snapshot: string, found: BackupView[], nodes: NodeView[]): string {
  if (found.length === 0) throw new SnapshotNotFound(snapshot);
  const local = found.filter((b) => b.location === "local");
  const init = nodes.find((n) => n.init && n.role === "server" && n.state === "joined");
  if (init) {
    const inS3 = found.some((b) => b.location === "s3");
    if (!inS3 && local.length > 0 && !local.some((b) => b.node === init.name))
      throw new SnapshotNotOnInitServer(snapshot, local[0]!.node, init.name);
    return init.name;
  }
  const connected = (name: string) => nodes.some((n) => n.name === name && n.connected);
  const reset = local[0]?.node ?? found.find((b) => connected(b.node))?.node;
  if (!reset) throw new SnapshotNotFound(snapshot);
  return reset;
}
