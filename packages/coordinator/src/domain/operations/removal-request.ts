import {
  type EtcdMember,
  NodeNotFound,
  NodeNotRemovable,
  projectRemoval,
  QuorumGuard,
  type VoterHealth,
} from "@muster/shared";
import type { OperationRecord } from "../../store/operations-repo.ts";
import type { Store } from "../../store/store.ts";
import { votersOf } from "../cluster/views.ts";
import { type RemoveArgs, removalSteps } from "./remove.ts";
import type { OperationRunner } from "./runner.ts";

// DELETE /v1/nodes/:name: what may be removed, the quorum guard (invariant 10) and the operation.
// The guard and the node's move to `removing` run inside the transaction that takes the lease, so
// two removals can never both pass a guard computed on the same picture.
//
// The guard looks at two pictures and refuses when either refuses. The coordinator's own (servers
// joined with a connected agent) lags a machine that just died by up to the heartbeat timeout; so
// before a server's removal it also asks etcd itself, through another healthy server's agent, which
// members answer and see a leader right now. When etcd cannot be asked, the removal is refused:
// guessing is how quorum gets lost.

export interface RemovalDeps {
  store: Pick<Store, "tx" | "events"> & {
    nodes: Pick<Store["nodes"], "summary" | "summaries" | "update">;
    operations: Pick<Store["operations"], "recent">;
  };
  runner: Pick<OperationRunner, "submit" | "resume">;
  now(): number;
  /** etcd members with no node behind them (the orphan audit): unhealthy members in the guard. */
  orphans?(): number;
  /** etcd's members with their health now, asked through the agent of server `through`. */
  etcdMembers?(through: string): Promise<readonly EtcdMember[]>;
}

/** etcd's own picture of its voters, each named after the node behind it where one is known. */
export function etcdVoters(members: readonly EtcdMember[], nodes: readonly string[]): VoterHealth[] | null {
  const voting = members.filter((m) => !m.isLearner);
  if (voting.some((m) => m.healthy === undefined)) return null; // an older agent: no health to go by
  return voting.map((m) => ({
    // RKE2 names a member `<node>-<hash>`.
    node: nodes.find((n) => m.name === n || m.name.startsWith(`${n}-`)) ?? m.name,
    healthy: m.healthy === true,
  }));
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

  function guard(name: string, fresh: FreshView | null): void {
    quorumGuard(name, fresh);
    store.nodes.update(name, { state: "removing", message: "being removed", stateSince: deps.now() });
  }

  interface FreshView {
    through: string;
    voters: VoterHealth[];
  }

  /** The other joined servers with a connected agent: etcd can be asked through any of them. */
  const helpersFor = (name: string) =>
    store.nodes
      .summaries()
      .filter((n) => n.role === "server" && n.name !== name && n.state === "joined" && n.connected)
      .map((n) => n.name);

  /**
   * etcd's own view of its voters' health, for a server whose removal the guard must judge. Asked
   * through every other healthy-looking server at once, first answer wins: one of them may be the
   * machine that just died, which the coordinator cannot know yet.
   */
  async function freshView(name: string): Promise<FreshView | null> {
    const node = store.nodes.summary(name);
    const ask = deps.etcdMembers;
    if (!ask || !node || node.role !== "server" || PRE_RELEASE.has(node.state)) return null;
    const helpers = helpersFor(name);
    if (helpers.length === 0) return null; // the guard refuses: no other healthy server
    let answer: { through: string; members: readonly EtcdMember[] };
    try {
      answer = await Promise.any(helpers.map(async (h) => ({ through: h, members: await ask(h) })));
    } catch (err) {
      const why = (err as AggregateError).errors.map((e, i) => `${helpers[i]}: ${(e as Error).message}`);
      const p = projectRemoval(votersOf(store.nodes.summaries()), name, deps.orphans?.() ?? 0);
      throw new QuorumGuard({
        reason: `etcd's member health could not be read through any other server (${why.join("; ")}), so the removal of ${name} cannot be judged safe; try again once etcd answers`,
        healthyNow: p.healthyNow,
        healthyAfter: p.healthyAfter,
        quorum: p.quorumAfter,
      });
    }
    const voters = etcdVoters(
      answer.members,
      store.nodes.summaries().map((n) => n.name),
    );
    return voters ? { through: answer.through, voters } : null;
  }

  function quorumGuard(name: string, fresh: FreshView | null): void {
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
      if (!fresh) return;
      const e = projectRemoval(fresh.voters, name);
      if (e.refusal) {
        const down = fresh.voters.filter((v) => !v.healthy).map((v) => v.node);
        throw new QuorumGuard({
          reason: `${e.refusal}, as etcd itself sees it through ${fresh.through} (not answering: ${down.join(", ") || "none"})`,
          healthyNow: e.healthyNow,
          healthyAfter: e.healthyAfter,
          quorum: e.quorumAfter,
        });
      }
    }
  }

  /** The node's last removal, when it failed: a new request resumes it at the step it failed at. */
  function resumeFailed(
    name: string,
    force: boolean,
    requestedBy: string | null,
    fresh: FreshView | null,
  ): OperationRecord | null {
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
        if (memberGone < 0 || op.step <= memberGone) quorumGuard(name, fresh);
        store.nodes.update(name, { message: "being removed (resumed)", stateSince: deps.now() });
      },
    });
  }

  return {
    /** Starts the removal of `name`; rejects with NOT_FOUND, CONFLICT, OPERATION_IN_FLIGHT or QUORUM_GUARD. */
    async remove(name: string, force: boolean, requestedBy: string | null): Promise<OperationRecord> {
      refuseEarly(name, force);
      // When the coordinator's own picture refuses already, etcd need not be asked.
      if (store.nodes.summary(name)!.state !== "removing") quorumGuard(name, null);
      const fresh = await freshView(name);
      refuseEarly(name, force); // the node may have changed while etcd was asked
      const node = store.nodes.summary(name)!;
      if (node.state === "removing") {
        const resumed = resumeFailed(name, force, requestedBy, fresh);
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
        guard: () => guard(name, fresh),
      });
    },
  };
}
