import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import {
  type EtcdMember,
  hashSecret,
  type TaskInput,
  type TaskKind,
  type TaskResultOf,
} from "@muster/shared";
import type { NodeSummary } from "../../store/node-summaries.ts";
import type { OperationDeps } from "./definitions.ts";
import { stopServerInStep } from "./server-stop.ts";
import { type OperationDefinition, type StepContext, StepFailed, type StepKind } from "./types.ts";

// The steps of a node's removal (docs/reference.md#removing-a-node), in the order RKE2 needs
// (docs/rke2-behaviour.md): leadership off, cordon, drain, member removed and gone, RKE2 stopped and
// uninstalled when the node is reachable, Node and node-password secret deleted, credential
// forgotten. Kubernetes and etcd actions run through the agent of another healthy server, picked
// when the step runs (after a restart it may be another one). Each step looks first and acts only
// if needed; mutating tasks keep one id per step, so a re-run after a crash is answered from the
// agent's kept result; reads get a fresh id each time.

export interface RemoveArgs {
  node: string;
  role: "server" | "agent";
  /** The node is unreachable: steps on it are skipped, the drain does not wait for its kubelet. */
  force: boolean;
}

export const KUBE_MS = 60_000;
const DRAIN_SECONDS = 300;
const MEMBER_GONE_MS = 120_000;
/** After this long still listed, the member is removed directly (what the member controller does). */
const MEMBER_DIRECT_MS = 30_000;
const POLL_MS = 1000;
const clip = (s: string) => (s.length > 1000 ? `${s.slice(0, 999)}…` : s);

type Ctx = StepContext<{ node: string }>;
type RemoveCtx = StepContext<RemoveArgs>;

/** What the steps of removal and rejoin share: the helper server, task runs, the node's member. */
export function stepKit(deps: OperationDeps) {
  const summary = (name: string): NodeSummary | undefined => deps.store.nodes.summary(name) ?? undefined;

  function helper(ctx: Ctx): string {
    const h = deps.store.nodes
      .summaries()
      .find((n) => n.role === "server" && n.state === "joined" && n.connected && n.name !== ctx.args.node);
    if (!h)
      throw new StepFailed(`${ctx.step.name}: no other healthy server to act through`, { transient: true });
    return h.name;
  }

  function run<K extends TaskKind>(
    ctx: Ctx,
    on: string,
    task: TaskInput & { kind: K },
    timeoutMs: number,
    fresh = false,
  ): Promise<TaskResultOf<K>> {
    const suffix = fresh
      ? `r${deps.now().toString(36)}${randomBytes(2).toString("hex")}`
      : task.kind.replace(".", "-");
    return deps.tasks.run<K>(on, task, {
      id: ctx.taskId(suffix),
      timeoutMs,
      signal: ctx.signal,
      onProgress: ctx.progress,
    });
  }

  /** The node's etcd member: by name (RKE2 names it `<node>-<hash>`) or by peer address. */
  function memberOf(members: readonly EtcdMember[], node: string): EtcdMember | undefined {
    const address = summary(node)?.address;
    return members.find(
      (m) =>
        m.name === node ||
        m.name.startsWith(`${node}-`) ||
        (address !== undefined && m.peerURLs.some((u) => URL.parse(u)?.hostname === address)),
    );
  }

  const status = (ctx: Ctx) => run(ctx, helper(ctx), { kind: "etcd.status" }, KUBE_MS, true);
  return { summary, helper, run, memberOf, status };
}

export function createRemoveDefinition(deps: OperationDeps): OperationDefinition {
  const { summary, helper, run, memberOf, status } = stepKit(deps);
  const reachable = (ctx: RemoveCtx) => !ctx.args.force || summary(ctx.args.node)?.connected === true;
  const wait = (ms: number, signal: AbortSignal) => sleep(ms, undefined, { signal }).catch(() => undefined);

  const kinds: Record<string, StepKind<RemoveArgs>> = {
    "move-leader": {
      async run(ctx) {
        const s = await status(ctx);
        const own = memberOf(s.members, ctx.args.node);
        if (!own || s.leaderId !== own.id) return { state: "skipped", message: "not the etcd leader" };
        const to = s.members.find((m) => m.id !== own.id && !m.isLearner);
        if (!to) throw new StepFailed("no other voting member to take etcd leadership");
        await run(ctx, helper(ctx), { kind: "etcd.move-leader", toId: to.id }, KUBE_MS);
        return { message: `leadership moved to ${to.name}` };
      },
    },
    cordon: {
      async run(ctx) {
        await run(ctx, helper(ctx), { kind: "kube.cordon", node: ctx.args.node }, KUBE_MS);
        return undefined;
      },
    },
    drain: {
      async run(ctx) {
        const r = await run(
          ctx,
          helper(ctx),
          { kind: "kube.drain", node: ctx.args.node, timeoutSeconds: DRAIN_SECONDS, force: ctx.args.force },
          (DRAIN_SECONDS + 60) * 1000,
        );
        return { message: `${r.evicted} pod(s) evicted` };
      },
    },
    "remove-member": {
      async run(ctx) {
        const s = await status(ctx);
        if (!memberOf(s.members, ctx.args.node)) return { state: "skipped", message: "no etcd member" };
        // The member controller removes it and keeps the Node (docs/rke2-behaviour.md).
        await run(
          ctx,
          helper(ctx),
          { kind: "kube.annotate", node: ctx.args.node, key: "etcd.rke2.cattle.io/remove", value: "true" },
          KUBE_MS,
        );
        return { message: "member removal requested (etcd.rke2.cattle.io/remove=true)" };
      },
    },
    "wait-member-gone": {
      async run(ctx) {
        const start = deps.now();
        let direct = false;
        for (;;) {
          const s = await status(ctx);
          const own = memberOf(s.members, ctx.args.node);
          if (!own) return { message: `etcd lists ${s.members.length} member(s), none of ${ctx.args.node}` };
          const waited = deps.now() - start;
          if (waited > MEMBER_GONE_MS) throw new StepFailed(`etcd still lists member ${own.name}`);
          if (!direct && waited > MEMBER_DIRECT_MS) {
            direct = true;
            ctx.progress(`member ${own.name} still listed: removing it directly`);
            await run(ctx, helper(ctx), { kind: "etcd.member-remove", id: own.id }, KUBE_MS);
          } else ctx.progress(`waiting until etcd no longer lists ${own.name}`);
          await wait(POLL_MS, ctx.signal);
          if (ctx.signal.aborted) return undefined;
        }
      },
    },
    stop: {
      async run(ctx) {
        if (!reachable(ctx)) return { state: "skipped", message: "node unreachable" };
        if (ctx.args.role === "agent") {
          await run(ctx, ctx.args.node, { kind: "rke2.stop", unit: "rke2-agent" }, KUBE_MS * 3);
          return undefined;
        }
        // A server may hold the VIP: stop it the VIP-safe way and verify the VIP moved (kube-vip#1786).
        const out = await stopServerInStep(deps, ctx, ctx.args.node);
        return out.vip
          ? { message: `rke2-server stopped; VIP moved to ${out.vip.to ?? "another machine"}` }
          : undefined;
      },
    },
    uninstall: {
      async run(ctx) {
        if (!reachable(ctx))
          return { state: "skipped", message: "node unreachable: wipe the machine before reusing it" };
        const r = await run(ctx, ctx.args.node, { kind: "rke2.uninstall" }, KUBE_MS * 5);
        return { message: r.wasInstalled ? "RKE2 uninstalled" : "RKE2 was not installed" };
      },
    },
    "delete-node": {
      async run(ctx) {
        const r = await run(ctx, helper(ctx), { kind: "kube.delete-node", node: ctx.args.node }, KUBE_MS);
        return r.existed ? undefined : { state: "skipped", message: "no Node" };
      },
    },
    "delete-node-password": {
      async run(ctx) {
        const node = ctx.args.node;
        const r = await run(ctx, helper(ctx), { kind: "kube.delete-node-password", node }, KUBE_MS);
        return r.existed ? undefined : { state: "skipped", message: "no node-password secret" };
      },
    },
    forget: {
      async run(ctx) {
        const { node } = ctx.args;
        // The init flag names the server the others register through (registration "node") and
        // that the planner waits on: it moves to a healthy server, never to nothing.
        const heir = summary(node)?.init ? helper(ctx) : null;
        deps.store.tx(() => {
          if (summary(node)?.state === "removed") return;
          deps.store.nodes.update(node, {
            init: false,
            state: "removed",
            connected: false,
            // A hash of a secret nobody has: the node's old credential stops working.
            credentialHash: hashSecret(randomBytes(32).toString("base64url")),
            message: `removed by operation ${ctx.op.id}`,
            stateSince: deps.now(),
          });
          if (heir) deps.store.nodes.update(heir, { init: true }); // after: one init at most (unique)
          deps.store.events.append(
            "node.removed",
            node,
            `${ctx.args.role} ${node} removed (operation ${ctx.op.id})`,
          );
        });
        deps.disconnect?.(node);
        return undefined;
      },
    },
  };
  return {
    type: "remove",
    controlPlane: true,
    kinds: kinds as OperationDefinition["kinds"],
    // The node stays `removing` (its member may be gone already): the way on is a new request.
    onFailed(op, reason) {
      if (!op.node || summary(op.node)?.state !== "removing") return;
      const step = op.steps[op.step]?.name ?? "its last step";
      const force = (op.params as { force?: boolean } | null)?.force ? " --force" : "";
      deps.store.nodes.update(op.node, {
        message: clip(
          `removal failed at "${step}": ${reason}. Run \`muster remove ${op.node}${force}\` again to resume it at that step`,
        ),
        stateSince: deps.now(),
      });
    },
  };
}

/** The steps of removing a node of `role`, in order. */
export function removalSteps(args: RemoveArgs): { name: string; kind: string; args: RemoveArgs }[] {
  const server: [string, string][] = [
    ["move etcd leadership off it", "move-leader"],
    ["cordon", "cordon"],
    ["drain", "drain"],
    ["remove its etcd member", "remove-member"],
    ["wait until etcd no longer lists it", "wait-member-gone"],
    ["stop RKE2", "stop"],
    ["uninstall RKE2", "uninstall"],
    ["delete its Node", "delete-node"],
    ["delete its node-password secret", "delete-node-password"],
    ["forget its credential", "forget"],
  ];
  const agent = server.filter(
    ([, kind]) => !["move-leader", "remove-member", "wait-member-gone"].includes(kind),
  );
  return (args.role === "server" ? server : agent).map(([name, kind]) => ({ name, kind, args }));
}
