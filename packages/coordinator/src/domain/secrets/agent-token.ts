import type { Logger } from "@muster/shared";
import type { Store } from "../../store/store.ts";
import type { Vault } from "./vault.ts";

// The agent token (docs/architecture.md#invariant-11, docs/rke2-behaviour.md#agent-token): servers
// carry `agent-token`, agents get only a credential made from it. It is a critical config value, so
// a cluster whose servers already run without it cannot start sending it to new servers (their
// join would fail with a config mismatch): such a cluster is "legacy" until every server carries it
// (docs/operations.md#agent-token-migration). A cluster started by this version is "enforced" from
// its first plan on. The mode is decided once, when a coordinator first opens the database.

export type AgentTokenMode = "enforced" | "legacy";

export interface AgentTokenDeps {
  store: Pick<Store, "tx" | "afterCommit"> & {
    meta: Pick<Store["meta"], "get" | "set">;
    nodes: Pick<Store["nodes"], "summaries">;
    events: Pick<Store["events"], "append">;
  };
  vault: Pick<Vault, "ensureAgentToken">;
  log: Logger;
}

export function agentTokenMode(meta: Pick<Store["meta"], "get">): AgentTokenMode {
  return meta.get("agent-token-mode") === "enforced" ? "enforced" : "legacy";
}

/**
 * Generates the agent token if there is none and decides the mode on the first start of this
 * version: enforced when no node has been given a plan yet, legacy otherwise.
 */
export function initAgentToken(deps: AgentTokenDeps): AgentTokenMode {
  const { store, vault, log } = deps;
  return store.tx(() => {
    vault.ensureAgentToken();
    const stored = store.meta.get("agent-token-mode");
    if (stored === "enforced" || stored === "legacy") return stored;
    const planned = store.nodes.summaries().filter((n) => n.planChecksum !== null);
    const mode: AgentTokenMode = planned.length === 0 ? "enforced" : "legacy";
    store.meta.set("agent-token-mode", mode);
    if (mode === "legacy") {
      const message = `${planned.length} node(s) joined before muster used an agent token: agents keep receiving the server token until the servers carry agent-token (docs/operations.md#agent-token-migration)`;
      store.events.append("cluster.agent-token.legacy", null, message);
      store.afterCommit(() => log.warn({ nodes: planned.length }, message));
    }
    return mode;
  });
}

/** The warning GET /v1/cluster shows while agents still receive the server token. */
export const LEGACY_AGENT_TOKEN_WARNING =
  "agents receive the server token: this cluster's servers run without agent-token (see docs/operations.md#agent-token-migration)";
