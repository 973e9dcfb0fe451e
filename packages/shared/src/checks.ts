import { z } from "zod";

// kubeadm-style check results: a stable name, a status, what is wrong and how to fix it.
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
