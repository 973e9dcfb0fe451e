import { agentCredential, type Logger } from "@muster/shared";
import type { Store } from "../../store/store.ts";
import { planForStorage, sealWithDigest, withSecrets } from "../nodes/plan-builder.ts";
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
  "agents receive the server token: this cluster's servers run without agent-token; move it over with `muster agent-token migrate` (docs/operations.md#agent-token-migration)";

export interface EnforceDeps {
  store: Pick<Store, "tx"> & {
    meta: Pick<Store["meta"], "get" | "set">;
    nodes: Pick<Store["nodes"], "list" | "update">;
    events: Pick<Store["events"], "append">;
  };
  vault: Pick<Vault, "token" | "agentToken" | "s3SecretKey" | "digestSecrets">;
}

/**
 * The last step of the agent-token migration, once every server runs with `agent-token` and every
 * agent holds the agent credential: the stored plans are rewritten to match what the nodes now run
 * (a server's with `agent-token`, an agent's `token` the agent credential; re-sealed), so a plan sent
 * again (a retry, a rejoin) carries the same critical config; then the cluster is enforced, and new
 * plans use the agent token. Idempotent: an enforced cluster is left as it is. Returns whether it flipped.
 */
export function enforceAgentToken(deps: EnforceDeps): boolean {
  const { store, vault } = deps;
  return store.tx(() => {
    if (agentTokenMode(store.meta) === "enforced") return false;
    const token = vault.token();
    const agentToken = vault.agentToken();
    if (token === null || agentToken === null)
      throw new Error("the cluster token or the agent token is not known: cannot enforce the agent token");
    let rewritten = 0;
    for (const node of store.nodes.list()) {
      if (node.plan === null || node.state === "removed") continue;
      const plan = withSecrets(node.plan, token, agentToken, vault.s3SecretKey());
      const config = { ...plan.config };
      if (plan.role === "server") config["agent-token"] = agentToken;
      else if (typeof config["token"] === "string") config["token"] = agentCredential(token, agentToken);
      const { checksum: _old, ...body } = plan;
      const sealed = sealWithDigest({ ...body, config }, vault.digestSecrets);
      store.nodes.update(node.name, {
        plan: planForStorage(sealed, agentToken),
        planChecksum: sealed.checksum,
      });
      rewritten++;
    }
    store.meta.set("agent-token-mode", "enforced");
    store.events.append(
      "cluster.agent-token.enforced",
      null,
      `every server runs with agent-token and every agent holds only the agent credential: new plans use the agent token (${rewritten} stored plan(s) updated)`,
    );
    return true;
  });
}
