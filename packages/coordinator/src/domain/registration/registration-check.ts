import type { ClusterSpec } from "@muster/shared";
import { registrationAddress } from "../planner/planner.ts";
import type { RegistrationMonitor } from "./monitor.ts";
import type { VipWatch } from "./vip-watch.ts";

// "Is the registration address still good?", asked afresh, for the readiness gate of the rolling
// operations (an upgrade, the agent-token migration): a restarted server may have held the VIP, and
// the next server must not go down while joiners and agents cannot reach the control plane. The same
// two tests as the join gate: the address answers as a joiner sees it (:9345 ping, :6443 readyz, CA
// pinned by the token), and when muster runs the VIP, exactly one machine answers ARP for it, as
// peers see it (vip-verdict.ts).

export interface RegistrationCheckDeps {
  spec(): ClusterSpec;
  initNode(): { address: string } | null;
  monitor: Pick<RegistrationMonitor, "refresh" | "health">;
  vipWatch?: Pick<VipWatch, "refresh">;
}

/** Resolves to "" when the registration address is good, else to why not (an operator's words). */
export type RegistrationCheck = () => Promise<string>;

export function createRegistrationCheck(deps: RegistrationCheckDeps): RegistrationCheck {
  return async () => {
    const spec = deps.spec();
    const address = registrationAddress(spec, deps.initNode());
    if (address === null) return "";
    const isVip = spec.vip?.address === address;
    await deps.monitor.refresh();
    if (deps.monitor.health(address) !== "healthy")
      return `the registration address ${address}${isVip ? " (the VIP)" : ""} does not answer on 9345 and 6443`;
    if (!isVip || !deps.vipWatch) return "";
    const verdict = await deps.vipWatch.refresh();
    return verdict.state === "one" ? "" : verdict.detail;
  };
}
