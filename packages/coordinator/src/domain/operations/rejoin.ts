import { MusterError, OperationInFlight } from "@muster/shared";
import type { OperationDeps } from "./definitions.ts";
import { KUBE_MS, stepKit } from "./remove.ts";
import type { OperationRunner } from "./runner.ts";
import type { OperationDefinition, StepKind } from "./types.ts";

// A removed node's machine enrolling again (transitions/enrol.ts marks it `rejoin pending`) gets the
// cleanup RKE2 needs before it joins under its old name (docs/reference.md#rejoining-a-removed-node):
// a stale etcd member removed, `server/db` wiped (a removed member restarted with its old data fails),
// a stale Node and `<name>.node-password.rke2` secret deleted. Under the control-plane lease; then the
// node is `enrolled` and joins like any other, the planner taking the lease again.

export interface RejoinArgs {
  node: string;
  role: "server" | "agent";
}

export const REJOIN_PENDING = "rejoin pending";

export function createRejoinDefinition(deps: OperationDeps): OperationDefinition {
  const { helper, run, memberOf, status } = stepKit(deps);
  const kinds: Record<string, StepKind<RejoinArgs>> = {
    "stale-member": {
      async run(ctx) {
        const s = await status(ctx);
        const stale = memberOf(s.members, ctx.args.node);
        if (!stale) return { state: "skipped", message: "no stale etcd member" };
        await run(ctx, helper(ctx), { kind: "etcd.member-remove", id: stale.id }, KUBE_MS);
        return { message: `stale member ${stale.name} removed` };
      },
    },
    "wipe-db": {
      async run(ctx) {
        await run(ctx, ctx.args.node, { kind: "rke2.stop", unit: "rke2-server" }, KUBE_MS * 3);
        const r = await run(ctx, ctx.args.node, { kind: "rke2.wipe-db" }, KUBE_MS);
        return r.existed
          ? { message: "old server/db wiped" }
          : { state: "skipped", message: "no old server/db" };
      },
    },
    "stale-node": {
      async run(ctx) {
        const node = ctx.args.node;
        const a = await run(ctx, helper(ctx), { kind: "kube.delete-node", node }, KUBE_MS);
        const b = await run(ctx, helper(ctx), { kind: "kube.delete-node-password", node }, KUBE_MS);
        if (!a.existed && !b.existed) return { state: "skipped", message: "no stale Node or secret" };
        return {
          message: `${[a.existed ? "stale Node" : "", b.existed ? "stale node-password secret" : ""]
            .filter(Boolean)
            .join(" and ")} deleted`,
        };
      },
    },
    release: {
      async run(ctx) {
        const { node } = ctx.args;
        deps.store.tx(() => {
          if (deps.store.nodes.summary(node)?.state !== "removed") return;
          deps.store.nodes.update(node, {
            state: "enrolled",
            phase: null,
            message: null,
            stateSince: deps.now(),
          });
          deps.store.events.append(
            "node.rejoin.cleanup",
            node,
            `${ctx.args.role} ${node} cleaned up; it joins again`,
          );
        });
        return undefined;
      },
    },
  };
  return { type: "rejoin", controlPlane: true, kinds: kinds as OperationDefinition["kinds"] };
}

export function rejoinSteps(args: RejoinArgs) {
  const steps: [string, string][] =
    args.role === "server"
      ? [
          ["remove its stale etcd member", "stale-member"],
          ["wipe its old server/db", "wipe-db"],
          ["delete its stale Node and node-password secret", "stale-node"],
          ["release it to join", "release"],
        ]
      : [
          ["delete its stale Node and node-password secret", "stale-node"],
          ["release it to join", "release"],
        ];
  return steps.map(([name, kind]) => ({ name, kind, args }));
}

/**
 * Starts the cleanup of every connected node waiting to rejoin; one waiting for the lease says so
 * and is tried again on the next pass. Called periodically (coordinator.ts).
 */
export function startRejoins(
  deps: Pick<OperationDeps, "store" | "log">,
  runner: Pick<OperationRunner, "submit">,
): void {
  for (const n of deps.store.nodes.summaries()) {
    if (n.state !== "removed" || n.phase !== REJOIN_PENDING || !n.connected) continue;
    try {
      runner.submit({
        type: "rejoin",
        node: n.name,
        steps: rejoinSteps({ node: n.name, role: n.role }),
        guard: () => {
          deps.store.nodes.update(n.name, {
            phase: "rejoin cleanup",
            message: "cleaning up before it joins again",
          });
        },
      });
    } catch (err) {
      if (!(err instanceof OperationInFlight) && !(err instanceof MusterError)) throw err;
      const why = `rejoin waits for the control-plane lease: ${err.message}`;
      if (n.message !== why)
        deps.store.tx(() => deps.store.nodes.update(n.name, { message: why }), "relaxed");
    }
  }
}
