import { NodeNotFound, NodeNotRemovable, projectRemoval, QuorumGuard } from "@muster/shared";
import type { OperationRecord } from "../../store/operations-repo.ts";
import type { Store } from "../../store/store.ts";
import { votersOf } from "../cluster/views.ts";
import { type RemoveArgs, removalSteps } from "./remove.ts";
import type { OperationRunner } from "./runner.ts";

// DELETE /v1/nodes/:name: what may be removed, the quorum guard (invariant 10) and the operation.
// The guard and the node's move to `removing` run inside the transaction that takes the lease, so
// two removals can never both pass a guard computed on the same picture.

export interface RemovalDeps {
  store: Pick<Store, "tx" | "events"> & {
    nodes: Pick<Store["nodes"], "summary" | "summaries" | "update">;
    operations: Pick<Store["operations"], "recent">;
  };
  runner: Pick<OperationRunner, "submit" | "resume">;
  now(): number;
  /** etcd members with no node behind them (the orphan audit): unhealthy members in the guard. */
  orphans?(): number;
}

/** Before a plan is released nothing is installed or in the cluster: forgetting the node is all. */
const PRE_RELEASE = new Set(["enrolled", "checking", "waiting", "check-failed"]);

export function createRemovals(deps: RemovalDeps) {
  const { store } = deps;

  function refuseEarly(name: string, force: boolean): void {
    const node = store.nodes.summary(name);
    if (!node) throw new NodeNotFound(name);
    if (node.state === "removed") throw new NodeNotRemovable(name, "it is already removed");
    if (node.state === "joining" && node.role === "agent")
      throw new NodeNotRemovable(name, "it is joining; remove it once its join has ended");
    if (!node.connected && !force && !PRE_RELEASE.has(node.state))
      throw new NodeNotRemovable(
        name,
        `its agent is not connected (state ${node.state}); remove it with --force (?force=true), which skips the steps on the node itself`,
      );
  }

  function guard(name: string): void {
    quorumGuard(name);
    store.nodes.update(name, { state: "removing", message: "being removed", stateSince: deps.now() });
  }

  function quorumGuard(name: string): void {
    const node = store.nodes.summary(name)!;
    if (node.role === "server" && !PRE_RELEASE.has(node.state)) {
      const others = store.nodes
        .summaries()
        .filter((n) => n.role === "server" && n.name !== name && n.state === "joined" && n.connected);
      if (others.length === 0)
        throw new NodeNotRemovable(name, "no other healthy server would be left to run the cluster");
      const p = projectRemoval(votersOf(store.nodes.summaries()), name, deps.orphans?.() ?? 0);
      if (p.refusal)
        throw new QuorumGuard({
          reason: p.refusal,
          healthyNow: p.healthyNow,
          healthyAfter: p.healthyAfter,
          quorum: p.quorumAfter,
        });
    }
  }

  /** The node's last removal, when it failed: a new request resumes it at the step it failed at. */
  function resumeFailed(name: string, force: boolean, requestedBy: string | null): OperationRecord | null {
    const last = store.operations.recent(500).find((o) => o.type === "remove" && o.node === name);
    if (!last || last.state === "succeeded") return null;
    if (last.state !== "failed")
      throw new NodeNotRemovable(name, `its removal is already running (operation ${last.id})`);
    // Once its member is gone the guard has nothing left to protect: the rest only cleans up.
    const memberGone = last.steps.findIndex((s) => s.kind === "wait-member-gone");
    return deps.runner.resume(last.id, {
      requestedBy,
      args: (a) => ({ ...(a as RemoveArgs), force: (a as RemoveArgs).force || force }),
      guard: (op) => {
        if (memberGone < 0 || op.step <= memberGone) quorumGuard(name);
        store.nodes.update(name, { message: "being removed (resumed)", stateSince: deps.now() });
      },
    });
  }

  return {
    /** Starts the removal of `name`; throws NOT_FOUND, CONFLICT, OPERATION_IN_FLIGHT or QUORUM_GUARD. */
    remove(name: string, force: boolean, requestedBy: string | null): OperationRecord {
      refuseEarly(name, force);
      const node = store.nodes.summary(name)!;
      if (node.state === "removing") {
        const resumed = resumeFailed(name, force, requestedBy);
        if (resumed) return resumed;
      }
      const args = { node: name, role: node.role, force };
      const steps = PRE_RELEASE.has(node.state)
        ? removalSteps(args).filter((s) => s.kind === "forget")
        : removalSteps(args);
      return deps.runner.submit({
        type: "remove",
        node: name,
        params: { force },
        steps,
        requestedBy,
        guard: () => guard(name),
      });
    },
  };
}
