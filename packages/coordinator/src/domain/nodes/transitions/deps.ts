import type { ClusterSpec, Logger } from "@muster/shared";
import type { Store } from "../../../store/store.ts";
import type { Changes } from "../../changes.ts";
import type { Vault } from "../../secrets/vault.ts";
import type { AgentLinks } from "../links.ts";

// What the node transitions need, and nothing else: the store (a transaction per change, frames
// after its commit), the cluster token for plans, the live links to send on, the change signal
// for the planner, a logger, the clock and the current spec.

type Nodes = Store["nodes"];

export interface TransitionStore extends Pick<Store, "tx" | "afterCommit"> {
  nodes: Pick<
    Nodes,
    "summary" | "summaries" | "initNode" | "get" | "byMachineId" | "insert" | "update" | "markAllDisconnected"
  >;
  lease: Pick<Store["lease"], "get" | "take" | "release">;
  events: Pick<Store["events"], "append">;
  tokens: Pick<Store["tokens"], "countUse">;
}

export interface TransitionDeps {
  store: TransitionStore;
  vault: Pick<Vault, "token" | "agentToken">;
  /** The agent-token password for new plans; null while the cluster is legacy (secrets/agent-token.ts). */
  planAgentToken(): string | null;
  links: Pick<AgentLinks, "attach" | "detach" | "send" | "takeHeartbeat">;
  changes: Pick<Changes, "notify">;
  log: Logger;
  now(): number;
  spec(): ClusterSpec;
  /** sha256 of an image tarball the coordinator serves (plans of servers name kube-vip's). */
  imageSha256?: (file: string) => string | null;
}
