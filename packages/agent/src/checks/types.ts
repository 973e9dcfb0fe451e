import type { AgentCheckName, CheckVerdict, NodeFacts, ReachTarget } from "@muster/shared";
import type { HostAdapters } from "../adapters/types.ts";

// What a check sees: the request (from the coordinator's checks.run, or the CLI's flags), fresh host
// facts, and the adapters for the few checks that must probe (ARP, /proc, firewall).
export interface CheckRequest {
  role: "server" | "agent";
  minimums: { cpus: number; memoryGiB: number; diskGiB: number };
  ignore: readonly string[];
  vip?: { address: string; interface: string };
  /** An interface to check on its own (`muster-agent check --interface IF` without --vip). */
  interface?: string;
  peers: readonly string[];
  vipInUse: boolean;
  /** MACs of the cluster's servers: once the cluster holds the VIP, only these may answer for it. */
  vipOwners?: readonly string[];
  /** Lower-case owner MAC -> node name (from the coordinator), for vip-free's messages. */
  vipOwnerNames?: Readonly<Record<string, string>>;
  /** Expected RKE2 version, when the plan pins one. */
  expectedVersion?: string;
  /** sha256 of the cluster CA, when known: an existing server data dir with another CA is foreign. */
  clusterCaHash?: string;
  /** The peers' ports this node must reach (peers-ports); from the coordinator's checks.run. */
  reachability?: readonly ReachTarget[];
}

export type { ReachTarget } from "@muster/shared";

export interface CheckContext {
  request: CheckRequest;
  facts: NodeFacts;
  host: Pick<HostAdapters, "exec" | "files" | "systemd" | "arp" | "identity" | "disk"> &
    Partial<Pick<HostAdapters, "ports">>;
}

/**
 * One named check. `run` decides only the outcome: the runner stamps the result with `name`, so a
 * check cannot report under another check's name. Built-in checks are named from the shared list
 * (AGENT_CHECK_NAMES), which the spec's checks.ignore is validated against.
 */
export interface Check<Name extends string = AgentCheckName> {
  /** Stable kebab-case name; the spec's checks.ignore refers to it. */
  name: Name;
  run(ctx: CheckContext): Promise<CheckVerdict> | CheckVerdict;
}

export const pass = (message: string): CheckVerdict => ({ status: "pass", message });
export const warn = (message: string, fix: string): CheckVerdict => ({ status: "warn", message, fix });
export const fail = (message: string, fix: string): CheckVerdict => ({ status: "fail", message, fix });

export const GiB = 1024 ** 3;
export const formatGiB = (bytes: number) => `${(bytes / GiB).toFixed(1)} GiB`;
