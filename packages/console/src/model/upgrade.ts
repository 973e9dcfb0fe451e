import type { NodeView } from "@muster/shared";
import { type WhatIfView, whatIfVerdict } from "./whatif.ts";

// What the "Upgrade RKE2" confirmation shows before POST /v1/upgrades: the plan the coordinator will
// follow (docs/reference.md#upgrades: a snapshot, the servers one at a time with the init server
// last, the new release recorded, then the agents in batches) and the quorum guard's verdict on each server's turn, in the
// numbers of the coordinator's own what-if.

/** An RKE2 release name as the coordinator takes it, e.g. v1.32.4+rke2r1. */
export const RKE2_VERSION = /^v\d+\.\d+\.\d+\+rke2r\d+$/;

export function versionProblem(version: string): string | null {
  if (version.trim() === "") return "Type the RKE2 version to upgrade to, e.g. v1.32.4+rke2r1.";
  if (!RKE2_VERSION.test(version.trim()))
    return `“${version.trim()}” is not an RKE2 version: write it like v1.32.4+rke2r1 (see the RKE2 releases page).`;
  return null;
}

/** The steps, in order, for the joined nodes (the coordinator skips a node already at the version). */
export function upgradePlan(nodes: readonly NodeView[], version: string, drain: boolean): string[] {
  const joined = nodes.filter((n) => n.state === "joined");
  const servers = joined
    .filter((n) => n.role === "server")
    .sort((a, b) => Number(a.init) - Number(b.init) || a.name.localeCompare(b.name));
  const agents = joined.filter((n) => n.role === "agent").map((n) => n.name);
  const each = `cordon${drain ? ", drain" : ""}, install ${version}, restart, wait until ready, uncordon`;
  const steps = [`Snapshot etcd first.`];
  if (servers.length > 0)
    steps.push(
      `Servers one at a time, the init server last: ${servers.map((s) => s.name).join(", ")} (each: ${each}).`,
    );
  steps.push(`Record ${version} as the cluster's release: nodes added later install it.`);
  if (agents.length > 0)
    steps.push(
      `Then the agents, a few at a time (agents.concurrency, fewer while other nodes are not ready): ${agents.join(", ")}.`,
    );
  return steps;
}

/** The quorum guard's verdict while each server is down for its restart, from GET /v1/whatif. */
export function upgradeVerdict(whatif: WhatIfView | null | undefined): string {
  if (!whatif || whatif.servers.length === 0)
    return "The coordinator holds the upgrade while any server is not ready, so one server at most is down at a time.";
  const lost = whatif.servers.filter((s) => !s.ifLost.quorumKept);
  if (lost.length > 0)
    return `Quorum guard: while ${lost.map((s) => s.node).join(", ")} restarts, ${whatIfVerdict(lost[0]!.ifLost)}. Add servers first (3 or more keep quorum through an upgrade).`;
  const least = Math.min(...whatif.servers.map((s) => s.ifLost.toleranceLeft));
  return `Quorum guard: with any one of the ${whatif.servers.length} servers down for its restart, ${whatIfVerdict({ quorumKept: true, toleranceLeft: least })}.`;
}
