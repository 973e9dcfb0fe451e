import { applyIgnores, type CheckResult, type CheckVerdict } from "@muster/shared";
import { etcdDiskCheck } from "./etcd-disk.ts";
import { firewallCheck } from "./firewall.ts";
import { hostnameCheck, osArchCheck, rootCheck } from "./host.ts";
import { interfaceCheck } from "./interface.ts";
import { peersArpCheck } from "./peers.ts";
import { portsCheck } from "./ports.ts";
import { peersPortsCheck } from "./reachability.ts";
import { cpuCheck, diskCheck, memoryCheck, swapCheck } from "./resources.ts";
import { rke2ExistingCheck } from "./rke2-existing.ts";
import type { Check, CheckContext } from "./types.ts";
import { vipFreeCheck, vipInterfaceCheck, vipSubnetCheck } from "./vip.ts";

// kubeadm-style: every check runs (in parallel), a crashing check becomes a failure of its own, and
// the results come back together in a stable order, each under its check's name, with the spec's
// ignore list applied.
export const BASE_CHECKS: readonly Check[] = [
  rootCheck,
  osArchCheck,
  hostnameCheck,
  cpuCheck,
  memoryCheck,
  diskCheck,
  swapCheck,
  portsCheck,
  rke2ExistingCheck,
  firewallCheck,
  peersArpCheck,
  peersPortsCheck,
];
export const VIP_CHECKS: readonly Check[] = [vipInterfaceCheck, vipSubnetCheck, vipFreeCheck];

export const SERVER_CHECKS: readonly Check[] = [etcdDiskCheck];

export function checksFor(ctx: CheckContext): readonly Check[] {
  const { vip, role, interface: iface } = ctx.request;
  return [
    ...BASE_CHECKS,
    ...(role === "server" ? SERVER_CHECKS : []),
    ...(vip ? VIP_CHECKS : iface ? [interfaceCheck] : []),
  ];
}

export async function runChecks(
  ctx: CheckContext,
  checks: readonly Check<string>[] = checksFor(ctx),
): Promise<CheckResult[]> {
  const results = await Promise.all(
    checks.map(async (check): Promise<CheckResult> => {
      let verdict: CheckVerdict;
      try {
        verdict = await check.run(ctx);
      } catch (err) {
        const reason = err instanceof Error ? err.message : String(err);
        verdict = {
          status: "fail",
          message: `check crashed: ${reason}`.slice(0, 2000),
          fix: "report this as a muster bug",
        };
      }
      // Only what the check decided: a stray field (a name of its own) never reaches the result.
      const { status, message, fix } = verdict;
      return { name: check.name, status, message, ...(fix !== undefined ? { fix } : {}) };
    }),
  );
  return applyIgnores(results.map(clamp), ctx.request.ignore);
}

/** Results travel in frames with 2000-character fields (a long peer list can exceed that). */
function clamp(r: CheckResult): CheckResult {
  const cut = (s: string) => (s.length > 1900 ? `${s.slice(0, 1900)}... (truncated)` : s);
  return { ...r, message: cut(r.message), ...(r.fix !== undefined ? { fix: cut(r.fix) } : {}) };
}
