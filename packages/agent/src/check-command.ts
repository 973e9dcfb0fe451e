import { type CheckReport, type CheckResult, defaultSpec, isIPv4, reportOf } from "@muster/shared";
import type { HostAdapters } from "./adapters/types.ts";
import { runChecks } from "./checks/runner.ts";

// `muster-agent check`: the same checks the coordinator asks for, run standalone with the spec's
// default minimums for the role. Human table, or exactly {"ok","checks"} with --json.
export interface CheckCommandOptions {
  role: "server" | "agent";
  interface?: string;
  vip?: string;
  json: boolean;
}

export async function runCheckCommand(
  host: HostAdapters,
  opts: CheckCommandOptions,
): Promise<{ report: CheckReport; output: string }> {
  const facts = await host.facts.collect(opts.interface ? { vipInterface: opts.interface } : {});
  // A VIP without --interface is checked on the default-route interface (kube-vip's usual choice).
  const iface = opts.interface ?? facts.defaultRoute?.interface ?? "";
  const vip = opts.vip ? { address: opts.vip, interface: iface } : undefined;
  const results = await runChecks({
    request: {
      role: opts.role,
      minimums: defaultSpec().checks[opts.role],
      ignore: [],
      peers: [],
      vipInUse: false,
      ...(vip ? { vip } : opts.interface ? { interface: opts.interface } : {}),
    },
    facts,
    host,
  });
  const report = reportOf(results);
  return { report, output: opts.json ? JSON.stringify(report) : formatTable(report.checks, report.ok) };
}

const LABEL: Record<CheckResult["status"], string> = { pass: "PASS", warn: "WARN", fail: "FAIL" };

export function formatTable(checks: readonly CheckResult[], ok: boolean): string {
  const width = Math.max(5, ...checks.map((c) => c.name.length));
  const lines = [`${"STATUS".padEnd(6)}  ${"CHECK".padEnd(width)}  MESSAGE`];
  for (const c of checks) {
    lines.push(`${LABEL[c.status].padEnd(6)}  ${c.name.padEnd(width)}  ${c.message}`);
    if (c.fix && c.status !== "pass") lines.push(`${" ".repeat(8 + width)}  fix: ${c.fix}`);
  }
  const failed = checks.filter((c) => c.status === "fail").length;
  const warned = checks.filter((c) => c.status === "warn").length;
  lines.push(
    "",
    ok
      ? `ok: no check failed (${warned} warning(s))`
      : `not ok: ${failed} check(s) failed, ${warned} warning(s)`,
  );
  return lines.join("\n");
}

export function validVip(value: string): boolean {
  return isIPv4(value);
}
