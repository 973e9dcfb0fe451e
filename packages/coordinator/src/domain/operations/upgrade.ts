import { setTimeout as sleep } from "node:timers/promises";
import type { TaskInput, TaskKind, TaskResultOf } from "@muster/shared";
import { installSpecFor } from "../nodes/plan-builder.ts";
import type { OperationDeps } from "./definitions.ts";
import { KUBE_MS, stepKit } from "./remove.ts";
import { type OperationDefinition, type StepContext, StepFailed, type StepKind } from "./types.ts";
import type { UpgradeStepArgs } from "./upgrade-plan.ts";

// The kinds of a rolling RKE2 upgrade's steps (upgrade-plan.ts plans them; docs/reference.md#upgrades).
// A server step: cordon, optional drain, the installer with INSTALL_RKE2_VERSION, a restart, the
// readiness gate (its etcd member a voter and every member voting; its Node Ready at the new kubelet
// version), uncordon. An agent batch does the same for each agent of the batch at once, gated on the
// Node. Every step is safe to run again: the installer task answers "already in place".

const INSTALL_MS = 15 * 60_000;
const START_MS = 10 * 60_000;
const GATE_MS = 10 * 60_000;
const DRAIN_SECONDS = 600;
const POLL_MS = 1000;

type Ctx = StepContext<UpgradeStepArgs>;

/** The Kubernetes version a kubelet of RKE2 `v1.34.1+rke2r1` reports: `v1.34.1+rke2r1` or `v1.34.1`. */
export const kubeletMatches = (kubelet: string, version: string) =>
  kubelet === version || kubelet === version.split("+")[0];

export function createUpgradeDefinition(deps: OperationDeps): OperationDefinition {
  const { run, memberOf } = stepKit(deps);
  const wait = (signal: AbortSignal) => sleep(POLL_MS, undefined, { signal }).catch(() => undefined);
  const role = (node: string) => deps.store.nodes.summary(node)?.role ?? "agent";
  /** A server to ask the API through: another joined, connected one, else the node itself. */
  const via = (node: string) =>
    deps.store.nodes
      .summaries()
      .find((n) => n.role === "server" && n.state === "joined" && n.connected && n.name !== node)?.name ??
    node;

  async function gate(ctx: Ctx, node: string): Promise<void> {
    const end = deps.now() + GATE_MS;
    let last = "no answer yet";
    while (!ctx.signal.aborted) {
      try {
        last = await notReady(ctx, node);
        if (last === "") return;
      } catch (err) {
        last = (err as Error).message;
      }
      if (deps.now() > end) throw new StepFailed(`${node} did not pass the readiness gate in time: ${last}`);
      ctx.progress(`held: ${node} not ready: ${last}`);
      await wait(ctx.signal);
    }
  }

  /** Why `node` is not ready after its upgrade, or "" when it is. */
  async function notReady(ctx: Ctx, node: string): Promise<string> {
    const fresh = true; // every poll asks again
    if (role(node) === "server") {
      const s = await run(ctx, node, { kind: "etcd.status" }, KUBE_MS, fresh);
      const m = memberOf(s.members, node);
      if (!m) return "its etcd member is not listed";
      const learners = s.members.filter((x) => x.isLearner).map((x) => x.name);
      if (learners.length > 0) return `etcd has learner(s): ${learners.join(", ")}`;
      if (s.leaderId === null) return "etcd has no leader";
    }
    const { nodes } = await run(ctx, via(node), { kind: "kube.nodes" }, KUBE_MS, fresh);
    const k = nodes.find((x) => x.name === node);
    if (!k) return "its Node is not listed";
    if (k.ready !== "True") return `its Node is ${k.ready === "False" ? "NotReady" : "Unknown"}`;
    if (!kubeletMatches(k.kubeletVersion, ctx.args.version))
      return `its kubelet is ${k.kubeletVersion}, not ${ctx.args.version}`;
    return "";
  }

  /**
   * A task of this step with its own stable id (`<tag>-<index of the node in the step>`): the
   * cordon and the uncordon are two tasks, and a re-run after a restart gets the kept results.
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

  async function upgradeNode(ctx: Ctx, node: string): Promise<string> {
    const r = role(node);
    const unit = r === "server" ? "rke2-server" : "rke2-agent";
    await act(ctx, node, "cordon", via(node), { kind: "kube.cordon", node, undo: false }, KUBE_MS);
    if (ctx.args.drain)
      await act(
        ctx,
        node,
        "drain",
        via(node),
        { kind: "kube.drain", node, timeoutSeconds: DRAIN_SECONDS, force: false },
        (DRAIN_SECONDS + 60) * 1000,
      );
    const install = { ...installSpecFor(deps.spec(), r), version: ctx.args.version };
    const installed = await act(ctx, node, "install", node, { kind: "rke2.install", install }, INSTALL_MS);
    // A restart: the unit stopped (its pods left running, as `systemctl restart` does) and started.
    await act(ctx, node, "stop", node, { kind: "rke2.stop", unit, killall: false }, KUBE_MS * 3);
    await act(ctx, node, "start", node, { kind: "rke2.start", unit }, START_MS);
    await gate(ctx, node);
    await act(ctx, node, "uncordon", via(node), { kind: "kube.cordon", node, undo: true }, KUBE_MS);
    return `${node} runs ${installed.version ?? ctx.args.version}`;
  }

  const kinds: Record<string, StepKind<UpgradeStepArgs>> = {
    "pre-snapshot": {
      async run(ctx) {
        const node = ctx.args.nodes[0];
        if (!node) throw new StepFailed("no init server to take the snapshot on");
        const { snapshot } = await run(
          ctx,
          node,
          { kind: "rke2.snapshot-save", name: "pre-upgrade" },
          INSTALL_MS,
        );
        return { message: `etcd saved as ${snapshot.name} on ${node}` };
      },
    },
    server: {
      async run(ctx) {
        // Held while any other server is not ready: never two servers down.
        const others = deps.store.nodes
          .summaries()
          .filter((n) => n.role === "server" && n.name !== ctx.args.nodes[0] && n.state !== "removed");
        for (;;) {
          const down = others.filter((n) => {
            const s = deps.store.nodes.summary(n.name);
            return s?.state !== "joined" || !s.connected;
          });
          if (down.length === 0 || ctx.signal.aborted) break;
          ctx.progress(`held: server(s) not ready: ${down.map((n) => n.name).join(", ")}`);
          await wait(ctx.signal);
        }
        return { message: await upgradeNode(ctx, ctx.args.nodes[0]!) };
      },
    },
    agents: {
      async run(ctx) {
        const done = await Promise.all(ctx.args.nodes.map((n) => upgradeNode(ctx, n)));
        return { message: done.join("; ") };
      },
    },
  };
  return { type: "upgrade", controlPlane: true, kinds: kinds as OperationDefinition["kinds"] };
}
