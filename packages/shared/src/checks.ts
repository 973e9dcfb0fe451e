import * as z from "zod";

// kubeadm-style check results: a stable name, a status, what is wrong and how to fix it.

/** The checks an agent runs on its own node (packages/agent/src/checks), in the order it runs them. */
export const AGENT_CHECK_NAMES = [
  "root",
  "os-arch",
  "hostname",
  "cpu",
  "memory",
  "disk",
  "swap",
  "ports",
  "rke2-existing",
  "firewall",
  "peers-arp",
  "peers-ports",
  "etcd-disk",
  "interface",
  "vip-interface",
  "vip-subnet",
  "vip-free",
] as const;
/** The checks the coordinator makes by comparing nodes (coordinator domain/cluster/cross-node-checks.ts). */
export const COORDINATOR_CHECK_NAMES = ["vip-interface-consistent", "vip-subnet-matches"] as const;
/** Every check name, the one list `checks.ignore` may name. Agent and coordinator never share one. */
export const CHECK_NAMES: readonly CheckName[] = [...AGENT_CHECK_NAMES, ...COORDINATOR_CHECK_NAMES];

export type AgentCheckName = (typeof AGENT_CHECK_NAMES)[number];
export type CoordinatorCheckName = (typeof COORDINATOR_CHECK_NAMES)[number];
export type CheckName = AgentCheckName | CoordinatorCheckName;

const KNOWN = new Set<string>(CHECK_NAMES);
export function isCheckName(name: string): name is CheckName {
  return KNOWN.has(name);
}

export const CheckStatusSchema = z.enum(["pass", "warn", "fail"]);
export type CheckStatus = z.output<typeof CheckStatusSchema>;

export const CheckResultSchema = z.strictObject({
  name: z
    .string()
    .regex(/^[a-z0-9-]+$/)
    .max(64),
  status: CheckStatusSchema,
  message: z.string().max(2000),
  fix: z.string().max(2000).optional(),
});
export type CheckResult = z.output<typeof CheckResultSchema>;
/** What a check decides; its name is the check's own, stamped by whoever runs it. */
export type CheckVerdict = Omit<CheckResult, "name">;

export const CheckReportSchema = z.strictObject({
  ok: z.boolean(),
  checks: z.array(CheckResultSchema).max(256),
});
export type CheckReport = z.output<typeof CheckReportSchema>;

/** Applies the spec's ignore list: an ignored failure becomes a warning that says it was ignored. */
export function applyIgnores(results: CheckResult[], ignore: readonly string[]): CheckResult[] {
  const ignored = new Set(ignore);
  return results.map((r) =>
    r.status === "fail" && ignored.has(r.name)
      ? { ...r, status: "warn" as const, message: `${r.message} (ignored by spec checks.ignore)` }
      : r,
  );
}

export function reportOf(results: CheckResult[]): CheckReport {
  return { ok: results.every((r) => r.status !== "fail"), checks: results };
}
