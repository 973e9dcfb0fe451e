// What one running server knows about itself; shared by its listeners and background loops.
import type { SimConfig } from "./config.ts";
import type { Knobs } from "./env.ts";
import type { Etcd } from "./etcd-process.ts";
import type { KeyPair } from "./pki.ts";
import { parseToken, sha256 } from "./token.ts";

export interface ServerContext {
  cfg: SimConfig;
  knobs: Knobs;
  loopback: string;
  ca: KeyPair;
  serving: KeyPair;
  serverPassword: string;
  /** Password of agent-token, or the server password when no agent-token is set. */
  agentPassword: string;
  etcd: Etcd | null;
  /** The whole node is up: etcd voter, apiserver serving, node registered. */
  ready: boolean;
}

/** The values every server must agree on (docs/rke2-behaviour.md); agent-token travels only as a hash. */
export function criticalArgs(cfg: SimConfig): Record<string, string | boolean> {
  const agentToken = cfg.agentToken ? parseToken(cfg.agentToken, "node").password : "";
  return {
    AgentTokenHash: agentToken ? sha256(agentToken) : "",
    ClusterIPRange: cfg.clusterCIDR,
    ClusterDNS: cfg.clusterDNS,
    ClusterDomain: cfg.clusterDomain,
    ServiceIPRange: cfg.serviceCIDR,
    DisableCCM: cfg.disableCCM,
    DisableKubeProxy: cfg.disableKubeProxy,
    EgressSelectorMode: cfg.egressSelectorMode,
  };
}

/** Names of the config keys behind criticalArgs(), for error messages. */
export const CRITICAL_KEY_NAMES: Record<string, string> = {
  AgentTokenHash: "agent-token",
  ClusterIPRange: "cluster-cidr",
  ClusterDNS: "cluster-dns",
  ClusterDomain: "cluster-domain",
  ServiceIPRange: "service-cidr",
  DisableCCM: "disable-cloud-controller",
  DisableKubeProxy: "disable-kube-proxy",
  EgressSelectorMode: "egress-selector-mode",
};
