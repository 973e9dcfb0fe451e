import {
  agentCredential,
  type NodeView,
  type TaskInput,
  type TaskKind,
  type TaskResultOf,
} from "@muster/shared";
import { enforceAgentToken } from "../secrets/agent-token.ts";
import type { OperationDeps } from "./definitions.ts";
import { KUBE_MS } from "./remove.ts";
import { rollingKit } from "./rolling-kit.ts";
import {
  isTransient,
  type OperationDefinition,
  type StepContext,
  StepFailed,
  type StepKind,
} from "./types.ts";

// The agent-token migration of a legacy cluster (docs/operations.md#agent-token-migration), under
// the control-plane lease. RKE2's rules (docs/rke2-behaviour.md#agent-token): `agent-token` is a
// critical value every server must share, and only a restart makes a server take it; an already
// joined server restarting on its own data does not re-validate against the others, and the server
// token keeps authenticating agents meanwhile. So: the servers ONE AT A TIME (init server last, as
// an upgrade does) get `agent-token` in config.yaml and are restarted the VIP-safe way, each held at
// the readiness gate (its etcd member listed, no learner, a leader; its Node Ready) before the next;
// then the agents, in batches of agents.concurrency, get `token: K10<hash>::node:<agent token>` and
// a restart of rke2-agent that leaves their pods running; last the cluster flips to enforced and the
// stored plans are rewritten to match. Secrets never enter a step's args or messages: each step
// reads them from the vault when it runs. A server that refuses to start stops the operation there.

const START_MS = 10 * 60_000;

export interface AgentTokenStepArgs {
  /** The step's first node (the operation kit's key for task ids and helpers). */
  node: string;
  /** One server, or a batch of agents; empty for the final step. */
  nodes: string[];
}

export interface PlannedAgentTokenStep {
  name: string;
  kind: "server" | "agents" | "enforce";
  args: AgentTokenStepArgs;
}

/** The step list, planned when the migration is asked for: servers one by one, agents in batches, the flip. */
export function agentTokenSteps(nodes: readonly NodeView[], concurrency: number): PlannedAgentTokenStep[] {
  const joined = nodes.filter((n) => n.state === "joined");
  const servers = joined.filter((n) => n.role === "server");
  servers.sort((a, b) => Number(a.init) - Number(b.init));
  const agents = joined.filter((n) => n.role === "agent").map((n) => n.name);
  const size = Math.max(1, concurrency);
  const steps: PlannedAgentTokenStep[] = servers.map((s) => ({
    name: `restart server ${s.name} with agent-token (config.yaml, VIP-safe stop, start, readiness gate)`,
    kind: "server",
    args: { node: s.name, nodes: [s.name] },
  }));
  for (let i = 0; i < agents.length; i += size) {
    const batch = agents.slice(i, i + size);
    steps.push({
      name: `give agents ${batch.join(", ")} the agent credential and restart rke2-agent`,
      kind: "agents",
      args: { node: batch[0] ?? "", nodes: batch },
    });
  }
  steps.push({
    name: "enforce the agent token: new plans carry it",
    kind: "enforce",
    args: { node: "", nodes: [] },
  });
  return steps;
}

type Ctx = StepContext<AgentTokenStepArgs>;

export function createAgentTokenDefinition(deps: OperationDeps): OperationDefinition {
  const kit = rollingKit<AgentTokenStepArgs>(deps);
  const { wait, gate, stopServer } = kit;
  const summaries = () => deps.store.nodes.summaries();
  /** A task on the node itself, with the step's stable id for it. */
  const act = <K extends TaskKind>(
    ctx: Ctx,
    node: string,
    tag: string,
    task: TaskInput & { kind: K },
    timeoutMs: number,
  ): Promise<TaskResultOf<K>> => kit.act<K>(ctx, node, tag, node, task, timeoutMs);

  function secrets(): { token: string; agentToken: string } {
    const token = deps.vault?.token() ?? null;
    const agentToken = deps.vault?.agentToken() ?? null;
    if (token === null || agentToken === null)
      throw new StepFailed("the coordinator knows no cluster token or agent token: nothing to migrate to");
    return { token, agentToken };
  }

  /** rke2.start; a start RKE2 refused (not a dropped link or a timeout) stops the operation with why. */
  async function start(ctx: Ctx, node: string, unit: "rke2-server" | "rke2-agent"): Promise<void> {
    try {
      await act(ctx, node, "start", { kind: "rke2.start", unit }, START_MS);
    } catch (err) {
      if (isTransient(err)) throw err;
      throw new StepFailed(
        `${unit} on ${node} did not start with the new ${unit === "rke2-server" ? "agent-token" : "token"}: ${(err as Error).message}; the migration stops here, the other nodes are untouched (see docs/operations.md#agent-token-migration)`,
      );
    }
  }

  const kinds: Record<string, StepKind<AgentTokenStepArgs>> = {
    server: {
      async run(ctx) {
        const node = ctx.args.node;
        // Held while any other server is not ready: never two servers down.
        for (;;) {
          const down = summaries().filter(
            (n) => n.role === "server" && n.name !== node && n.state === "joined" && !n.connected,
          );
          if (down.length === 0 || ctx.signal.aborted) break;
          ctx.progress(`held: server(s) not connected: ${down.map((n) => n.name).join(", ")}`);
          await wait(ctx.signal);
        }
        const { agentToken } = secrets();
        const set = await act(
          ctx,
          node,
          "config",
          { kind: "rke2.config-credential", key: "agent-token", value: agentToken },
          KUBE_MS,
        );
        // Always restarted, even when config.yaml already had it: a crash may have come between the
        // write and the restart, and a restart of a ready server is safe.
        const moved = await stopServer(ctx, node);
        await start(ctx, node, "rke2-server");
        await gate(ctx, node, true);
        return {
          message: `${node} runs with agent-token (config.yaml ${set.changed ? "updated" : "already had it"})${moved}`,
        };
      },
    },
    agents: {
      async run(ctx) {
        const { token, agentToken } = secrets();
        const credential = agentCredential(token, agentToken);
        const done = await Promise.all(
          ctx.args.nodes.map(async (node) => {
            await act(
              ctx,
              node,
              "config",
              { kind: "rke2.config-credential", key: "token", value: credential },
              KUBE_MS,
            );
            // No killall: the pods keep running; the agent presents the token when it reconnects.
            await act(
              ctx,
              node,
              "stop",
              { kind: "rke2.stop", unit: "rke2-agent", killall: false },
              KUBE_MS * 3,
            );
            await start(ctx, node, "rke2-agent");
            await gate(ctx, node, false);
            return node;
          }),
        );
        return { message: `${done.join(", ")} hold the agent credential only` };
      },
    },
    enforce: {
      async run() {
        if (!deps.vault) throw new StepFailed("no vault: cannot enforce the agent token");
        const flipped = enforceAgentToken({ store: deps.store, vault: deps.vault });
        deps.onAgentTokenEnforced?.();
        return flipped
          ? {
              message:
                "the cluster uses the agent token: new servers get agent-token, new agents the agent credential",
            }
          : { state: "skipped", message: "the cluster already used the agent token" };
      },
    },
  };
  return { type: "agent-token", controlPlane: true, kinds: kinds as OperationDefinition["kinds"] };
}
