import { parseRke2Token } from "./rke2-token.ts";
import type { ClusterSpec, Role } from "./spec.ts";

// Renders a node's /etc/rancher/rke2/config.yaml (as an object) from the spec, following
// docs/rke2-behaviour.md: joiners get `server:`, the init server does not; servers carry tls-san.
export const SUPERVISOR_PORT = 9345;
export const APISERVER_PORT = 6443;
export const DEDICATED_TAINT = "CriticalAddonsOnly=true:NoExecute";

export interface RenderConfigInput {
  spec: ClusterSpec;
  node: { name: string; role: Role; address: string };
  init: boolean;
  /** The cluster token; null only for an init server that will generate its own. */
  token: string | null;
  /** Host (IP or DNS name) of the registration address; required unless init. */
  registrationAddress: string | null;
  /**
   * The agent-token password (docs/rke2-behaviour.md#agent-token): servers carry it as `agent-token`,
   * agents get only a credential made from it, never the server token. Null or absent: a cluster
   * whose servers run without one (docs/operations.md#agent-token-migration), agents get the token.
   */
  agentToken?: string | null;
}

/**
 * What an agent (worker) presents: the agent-token password as user `node`, pinned to the cluster CA
 * when the server token pins it (K10<hash>::node:<pw>), else the bare password (RKE2 then takes
 * user `node` for an agent).
 */
export function agentCredential(serverToken: string, agentPassword: string): string {
  const { caHash } = parseRke2Token(serverToken);
  return caHash === null ? agentPassword : `K10${caHash}::node:${agentPassword}`;
}

export function serverUrl(registrationAddress: string): string {
  const host = registrationAddress.includes(":") ? `[${registrationAddress}]` : registrationAddress;
  return `https://${host}:${SUPERVISOR_PORT}`;
}

export function renderRke2Config(input: RenderConfigInput): Record<string, unknown> {
  const { spec, node, init, token, registrationAddress } = input;
  const agentToken = input.agentToken ?? null;
  if (!init && !registrationAddress) throw new Error("a joining node needs the registration address");
  if (!init && !token) throw new Error("a joining node needs the cluster token");
  if (init && node.role !== "server") throw new Error("only a server can initialise the cluster");

  const extra = node.role === "server" ? spec.servers.config : spec.agents.config;
  const config: Record<string, unknown> = { ...extra };
  if (!init) config["server"] = serverUrl(registrationAddress!);
  if (token)
    config["token"] =
      node.role === "agent" && agentToken !== null ? agentCredential(token, agentToken) : token;
  // Identical on every server (a critical value), so the same vault secret goes to each.
  if (node.role === "server" && agentToken !== null) config["agent-token"] = agentToken;
  config["node-name"] = node.name;
  config["node-ip"] = node.address;

  if (node.role === "server") {
    const sans = [registrationAddress, spec.registrationAddress, spec.vip?.address, ...spec.tlsSan];
    const fromExtra = Array.isArray(extra["tls-san"]) ? (extra["tls-san"] as unknown[]).map(String) : [];
    config["tls-san"] = unique(
      [...sans, ...fromExtra].filter((s): s is string => typeof s === "string" && s !== ""),
    );
    if (spec.servers.dedicated) {
      const taints = Array.isArray(extra["node-taint"]) ? (extra["node-taint"] as unknown[]).map(String) : [];
      config["node-taint"] = unique([...taints, DEDICATED_TAINT]);
    }
    // Kubeconfig holds cluster-admin credentials: root-only unless the operator says otherwise.
    config["write-kubeconfig-mode"] ??= "0600";
  }
  return config;
}

function unique(items: string[]): string[] {
  return [...new Set(items)];
}
