import type { ClusterSpec, KubeNode, Logger } from "@muster/shared";
import type { Store } from "../../store/store.ts";
import type { TaskDispatcher } from "../tasks/dispatcher.ts";
import { iso } from "../time.ts";
import type { Transitions } from "./transitions/index.ts";

// Notices lost nodes (docs/reference.md#node-loss): a joined node whose agent has been gone for
// timeouts.nodeLost and whose Kubernetes Node is not Ready, asked through the agent of a healthy
// server. An agent can die while its node works on (the Node stays Ready): that node is not lost,
// only disconnected. No healthy server to ask is no evidence of health: the node is lost.
// Gone-since is never earlier than this coordinator's first check (about its start), so a restart
// does not declare every node lost before its agent had the chance to reconnect.

export interface LossWatchDeps {
  store: {
    nodes: Pick<Store["nodes"], "summaries" | "get">;
  };
  tasks: Pick<TaskDispatcher, "run">;
  transitions: Pick<Transitions, "markLost">;
  log: Logger;
  now(): number;
  spec(): ClusterSpec;
}

/** How long a Ready answer holds before the Node is asked about again. */
const READY_RECHECK_MS = 10_000;
const KUBE_TIMEOUT_MS = 15_000;

export function createLossWatch(deps: LossWatchDeps) {
  let startedAt: number | null = null;
  /** Nodes whose Node was Ready though their agent is gone: until when that answer holds. */
  const readyUntil = new Map<string, number>();
  let running: Promise<void> | null = null;

  function candidates(now: number): string[] {
    const limit = deps.spec().timeouts.nodeLost * 1000;
    const out: string[] = [];
    for (const n of deps.store.nodes.summaries()) {
      if (n.state !== "joined" || n.connected) {
        readyUntil.delete(n.name);
        continue;
      }
      if ((readyUntil.get(n.name) ?? 0) > now) continue;
      const lastSeen = deps.store.nodes.get(n.name)?.lastSeen ?? 0;
      if (now - Math.max(lastSeen, startedAt ?? now) >= limit) out.push(n.name);
    }
    return out;
  }

  /** The Nodes as a healthy server's kubectl sees them, or why they could not be asked. */
  async function kubeNodes(exclude: readonly string[]): Promise<KubeNode[] | string> {
    const asker = deps.store.nodes
      .summaries()
      .find((n) => n.role === "server" && n.state === "joined" && n.connected && !exclude.includes(n.name));
    if (!asker) return "no healthy server to ask about its Kubernetes node";
    try {
      const { nodes } = await deps.tasks.run(
        asker.name,
        { kind: "kube.nodes" },
        { timeoutMs: KUBE_TIMEOUT_MS },
      );
      return nodes;
    } catch (err) {
      return `asking ${asker.name} about its Kubernetes node failed: ${(err as Error).message}`;
    }
  }

  async function pass(): Promise<void> {
    const now = deps.now();
    startedAt ??= now;
    const names = candidates(now);
    if (names.length === 0) return;
    const kube = await kubeNodes(names);
    for (const name of names) {
      const since = iso(Math.max(deps.store.nodes.get(name)?.lastSeen ?? 0, startedAt));
      if (typeof kube !== "string") {
        const node = kube.find((k) => k.name === name);
        if (node?.ready === "True") {
          readyUntil.set(name, deps.now() + READY_RECHECK_MS);
          deps.log.info({ node: name }, "agent gone but its Kubernetes node is Ready: not lost");
          continue;
        }
        const state = node ? `Node Ready=${node.ready}` : "no Kubernetes Node of that name";
        deps.transitions.markLost(name, `agent gone since ${since}, ${state}`);
      } else deps.transitions.markLost(name, `agent gone since ${since}; ${kube}`);
    }
  }

  return {
    /** One pass (a pass already running is joined, not doubled). */
    check(): Promise<void> {
      running ??= pass()
        .catch((err) => deps.log.error({ err: (err as Error).message }, "node-loss check failed"))
        .finally(() => {
          running = null;
        });
      return running;
    },
    /** Nodes whose agent is gone while their Kubernetes Node is Ready (for warnings). */
    readyWithoutAgent: (): string[] => [...readyUntil.keys()],
  };
}

export type LossWatch = ReturnType<typeof createLossWatch>;
