import { installSpecFor } from "../nodes/plan-builder.ts";
import type { OperationDeps } from "./definitions.ts";
import { KUBE_MS } from "./remove.ts";
import { type KubeNode, rollingKit } from "./rolling-kit.ts";
import { type OperationDefinition, type StepContext, StepFailed, type StepKind } from "./types.ts";
import type { UpgradeStepArgs } from "./upgrade-plan.ts";

// The kinds of a rolling RKE2 upgrade's steps (upgrade-plan.ts plans them; docs/reference.md#upgrades).
// A server step: cordon, optional drain, the installer with INSTALL_RKE2_VERSION, a restart (the
// VIP-safe stop when muster runs the VIP), the readiness gate (its etcd member a voter and every
// member voting; its Node Ready at the new kubelet version; the registration address and the VIP
// answering), uncordon. An agent batch does the same for each agent of the batch at once, gated on the
// Node. Every step is safe to run again: the installer task answers "already in place".

const INSTALL_MS = 15 * 60_000;
const START_MS = 10 * 60_000;
const DRAIN_SECONDS = 600;

type Ctx = StepContext<UpgradeStepArgs>;

/** The Kubernetes version a kubelet of RKE2 `v1.34.1+rke2r1` reports: `v1.34.1+rke2r1` or `v1.34.1`. */
export const kubeletMatches = (kubelet: string, version: string) =>
  kubelet === version || kubelet === version.split("+")[0];

export function createUpgradeDefinition(deps: OperationDeps): OperationDefinition {
  const { run, wait, via, act, gate, stopServer } = rollingKit<UpgradeStepArgs>(deps);
  const role = (node: string) => deps.store.nodes.summary(node)?.role ?? "agent";
  /** After an upgrade the Node must also report the new kubelet version. */
  const upgraded = (version: string) => (k: KubeNode) =>
    kubeletMatches(k.kubeletVersion, version) ? "" : `its kubelet is ${k.kubeletVersion}, not ${version}`;

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
    const install = installSpecFor(deps.spec(), r, ctx.args.version);
    const installed = await act(ctx, node, "install", node, { kind: "rke2.install", install }, INSTALL_MS);
    // A restart. With the VIP muster runs, a server is stopped the VIP-safe way: a plain stop leaves
    // kube-vip holding the VIP in front of a stopped apiserver (kube-vip#1786), so the VIP moves
    // first. Otherwise the unit stops with its pods left running, as `systemctl restart` does.
    let moved = "";
    if (r === "server" && deps.spec().vip) moved = await stopServer(ctx, node);
    else await act(ctx, node, "stop", node, { kind: "rke2.stop", unit, killall: false }, KUBE_MS * 3);
    await act(ctx, node, "start", node, { kind: "rke2.start", unit }, START_MS);
    await gate(ctx, node, r === "server", upgraded(ctx.args.version));
    await act(ctx, node, "uncordon", via(node), { kind: "kube.cordon", node, undo: true }, KUBE_MS);
    return `${node} runs ${installed.version ?? ctx.args.version}${moved}`;
  }

  /** Nodes outside this step whose Node is not Ready (null: the API could not say). */
  async function othersNotReady(ctx: Ctx): Promise<string[] | null> {
    try {
      const { nodes } = await run(ctx, via(ctx.args.node), { kind: "kube.nodes" }, KUBE_MS, true);
      return nodes.filter((k) => k.ready !== "True" && !ctx.args.nodes.includes(k.name)).map((k) => k.name);
    } catch {
      return null;
    }
  }

  /**
   * The agents of a batch, at most the batch's size (agents.concurrency) at a time, and fewer while
   * other Nodes are not ready: each Node already down counts against the slots, so an upgrade never
   * takes more capacity away than the spec allows. Held, with the reason, while no slot is left.
   */
  async function upgradeAgents(ctx: Ctx): Promise<string[]> {
    type Ended = { node: string; ok: true; message: string } | { node: string; ok: false; err: unknown };
    const queue = [...ctx.args.nodes];
    const running = new Map<string, Promise<Ended>>();
    const done: string[] = [];
    const size = ctx.args.nodes.length;
    let held = "";
    while ((queue.length > 0 || running.size > 0) && !ctx.signal.aborted) {
      if (queue.length > 0) {
        const down = await othersNotReady(ctx);
        const slots = down === null ? 1 : size - down.length;
        if (running.size < slots) {
          const node = queue.shift()!;
          running.set(
            node,
            upgradeNode(ctx, node).then(
              (message): Ended => ({ node, ok: true, message }),
              (err): Ended => ({ node, ok: false, err }),
            ),
          );
          held = "";
          continue;
        }
        const why =
          down === null
            ? "the API could not say which Nodes are ready: one agent at a time"
            : `${down.length} other Node(s) not ready (${down.join(", ")}): ${Math.max(0, slots)} of ${size} slot(s) free`;
        if (running.size === 0 && why !== held) ctx.progress(`held: ${why}`);
        held = why;
      }
      const ended = await Promise.race([...running.values(), wait(ctx.signal).then(() => null)]);
      if (ended === null) continue;
      running.delete(ended.node);
      if (!ended.ok) throw ended.err;
      done.push(ended.message);
    }
    return done;
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
    "record-release": {
      async run(ctx) {
        deps.recordRelease?.(ctx.args.version, `upgrade ${ctx.op.id}: every server runs it`);
        return { message: `rke2.version is ${ctx.args.version}: nodes added from now on install it` };
      },
    },
    agents: {
      async run(ctx) {
        return { message: (await upgradeAgents(ctx)).join("; ") };
      },
    },
  };
  return { type: "upgrade", controlPlane: true, kinds: kinds as OperationDefinition["kinds"] };
}
