import type { CheckResult, NodeFacts } from "@muster/shared";
import type { HostAdapters } from "../adapters/types.ts";

// What a check sees: the request (from the coordinator's checks.run, or the CLI's flags), fresh host
// facts, and the adapters for the few checks that must probe (ARP, /proc, firewall).
export interface CheckRequest {
  role: "server" | "agent";
  minimums: { cpus: number; memoryGiB: number; diskGiB: number };
  ignore: readonly string[];
  vip?: { address: string; interface: string };
  peers: readonly string[];
  vipInUse: boolean;
  /** Expected RKE2 version, when the plan pins one. */
  expectedVersion?: string;
  /** sha256 of the cluster CA, when known: an existing server data dir with another CA is foreign. */
  clusterCaHash?: string;
}

export interface CheckContext {
  request: CheckRequest;
  facts: NodeFacts;
  host: Pick<HostAdapters, "exec" | "files" | "systemd" | "arp" | "identity">;
}

export interface Check {
  /** Stable kebab-case name; the spec's checks.ignore refers to it. */
  name: string;
  run(ctx: CheckContext): Promise<CheckResult> | CheckResult;
}

export const pass = (name: string, message: string): CheckResult => ({ name, status: "pass", message });
export const warn = (name: string, message: string, fix: string): CheckResult => ({
  name,
  status: "warn",
  message,
  fix,
});
export const fail = (name: string, message: string, fix: string): CheckResult => ({
  name,
  status: "fail",
  message,
  fix,
});

export const GiB = 1024 ** 3;
export const formatGiB = (bytes: number) => `${(bytes / GiB).toFixed(1)} GiB`;
