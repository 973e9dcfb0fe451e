import { setTimeout as sleep } from "node:timers/promises";
import type { TaskInput, TaskKind, TaskResultOf } from "@muster/shared";
import type { OperationDeps } from "./definitions.ts";
import { KUBE_MS, stepKit } from "./remove.ts";
import { stopServerInStep } from "./server-stop.ts";
import { type StepContext, StepFailed } from "./types.ts";

// What the rolling operations (an RKE2 upgrade, the agent-token migration) share: each restarts
// nodes one step at a time, and a restarted node must pass the readiness gate before the next one
// goes (docs/rke2-behaviour.md "readiness"): for a server its etcd member listed, no learner and a
// leader; for every node its Node Ready, plus whatever the operation adds (the upgrade: the new
// kubelet version); for a server then the registration address and the VIP answering again
// (registration-check.ts).

const GATE_MS = 10 * 60_000;
const POLL_MS = 1000;

/** The args every rolling step carries: the nodes it acts on, in order. */
export interface RollingArgs {
  node: string;
  nodes: string[];
}

export type KubeNode = TaskResultOf<"kube.nodes">["nodes"][number];

export function rollingKit<A extends RollingArgs>(deps: OperationDeps) {
  type Ctx = StepContext<A>;
  const { run, memberOf } = stepKit(deps);
  const wait = (signal: AbortSignal) => sleep(POLL_MS, undefined, { signal }).catch(() => undefined);

  /** A server to ask the API through: another joined, connected one, else the node itself. */
  const via = (node: string) =>
    deps.store.nodes
      .summaries()
      .find((n) => n.role === "server" && n.state === "joined" && n.connected && n.name !== node)?.name ??
    node;

  /**
   * A mutating task of this step with its own stable id (`<tag><index of the node in the step>`),
   * so a re-run after a coordinator restart joins the task or gets its kept result.
   */
  function act<K extends TaskKind>(
    ctx: Ctx,
    node: string,
    tag: string,
    on: string,
    task: TaskInput & { kind: K },
    timeoutMs: number,
  ): Promise<TaskResultOf<K>> {
    return deps.tasks.run<K>(on, task, {
      id: ctx.taskId(`${tag}${ctx.args.nodes.indexOf(node)}`),
      timeoutMs,
      signal: ctx.signal,
      onProgress: ctx.progress,
    });
  }

  /** Why `node` is not ready after its restart, or "" when it is; every poll asks afresh. */
  async function notReady(
    ctx: Ctx,
    node: string,
    server: boolean,
    more?: (k: KubeNode) => string,
  ): Promise<string> {
    if (server) {
      const s = await run(ctx, node, { kind: "etcd.status" }, KUBE_MS, true);
      if (!memberOf(s.members, node)) return "its etcd member is not listed";
      const learners = s.members.filter((x) => x.isLearner).map((x) => x.name);
      if (learners.length > 0) return `etcd has learner(s): ${learners.join(", ")}`;
      if (s.leaderId === null) return "etcd has no leader";
    }
    const { nodes } = await run(ctx, via(node), { kind: "kube.nodes" }, KUBE_MS, true);
    const k = nodes.find((x) => x.name === node);
    if (!k) return "its Node is not listed";
    if (k.ready !== "True") return `its Node is ${k.ready === "False" ? "NotReady" : "Unknown"}`;
    const extra = more?.(k) ?? "";
    if (extra !== "" || !server) return extra;
    // The VIP may have been on the restarted server: the next one goes only once it answers again.
    return (await deps.registrationCheck?.()) ?? "";
  }

  /** Holds until `node` is ready; past GATE_MS the step fails with the last reason. */
  async function gate(
    ctx: Ctx,
    node: string,
    server: boolean,
    more?: (k: KubeNode) => string,
  ): Promise<void> {
    const end = deps.now() + GATE_MS;
    let last = "no answer yet";
    while (!ctx.signal.aborted) {
      try {
        last = await notReady(ctx, node, server, more);
        if (last === "") return;
      } catch (err) {
        last = (err as Error).message;
      }
      if (deps.now() > end) throw new StepFailed(`${node} did not pass the readiness gate in time: ${last}`);
      ctx.progress(`held: ${node} not ready: ${last}`);
      await wait(ctx.signal);
    }
  }

  /**
   * Stops rke2-server on `node` the VIP-safe way (stop-server.ts: kube-vip stopped so it gives the
   * VIP up, killall, the VIP verified to have moved), for a restart. Resolves to what happened to the
   * VIP ("; VIP moved to s2", or ""); a VIP that did not move fails the step.
   */
  async function stopServer(ctx: Ctx, node: string): Promise<string> {
    const out = await stopServerInStep(deps, ctx as StepContext<unknown>, node);
    return out.vip?.to ? `; VIP moved to ${out.vip.to}` : "";
  }

  return { run, wait, via, act, gate, stopServer };
}
