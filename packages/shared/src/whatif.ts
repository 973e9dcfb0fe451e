import * as z from "zod";
import { faultTolerance, quorum } from "./quorum.ts";

// What losing or removing a server would do to etcd quorum (docs/rke2-behaviour.md "Quorum"). Pure:
// the coordinator feeds it the servers that are etcd members and whether each is healthy now. Members
// without a machine (orphans) count as unhealthy, as CAPRKE2 and Omni do.

export interface VoterHealth {
  node: string;
  /** Connected and not lost: it votes now. */
  healthy: boolean;
}

export interface QuorumPicture {
  /** etcd voting members (servers that joined, lost ones included, plus orphans). */
  members: number;
  healthy: number;
  quorum: number;
}

export function quorumPicture(voters: readonly VoterHealth[], orphans = 0): QuorumPicture {
  const members = voters.length + orphans;
  return { members, healthy: voters.filter((v) => v.healthy).length, quorum: quorum(members) };
}

export interface RemovalProjection {
  healthyNow: number;
  healthyAfter: number;
  membersAfter: number;
  quorumNow: number;
  quorumAfter: number;
  /** Why the removal would lose quorum, or null when it is safe. */
  refusal: string | null;
}

/**
 * Removing `node` (its member leaves etcd, so the quorum is computed on one member fewer):
 * refused when etcd has no quorum now or healthy members after would fall below the new quorum.
 */
export function projectRemoval(voters: readonly VoterHealth[], node: string, orphans = 0): RemovalProjection {
  const now = quorumPicture(voters, orphans);
  const leaving = voters.find((v) => v.node === node);
  const membersAfter = now.members - (leaving ? 1 : 0);
  const healthyAfter = now.healthy - (leaving?.healthy ? 1 : 0);
  const quorumAfter = quorum(membersAfter);
  let refusal: string | null = null;
  if (now.members > 0 && now.healthy < now.quorum)
    refusal = `etcd has no quorum now (${now.healthy} of ${now.members} members healthy, quorum ${now.quorum})`;
  else if (leaving && healthyAfter < quorumAfter)
    refusal = `removing ${node} would leave ${healthyAfter} healthy of ${membersAfter} members, below quorum ${quorumAfter}`;
  return {
    healthyNow: now.healthy,
    healthyAfter,
    membersAfter,
    quorumNow: now.quorum,
    quorumAfter,
    refusal,
  };
}

export const WhatIfViewSchema = z.strictObject({
  servers: z.array(
    z.strictObject({
      node: z.string(),
      ifLost: z.strictObject({ quorumKept: z.boolean(), toleranceLeft: z.number().int() }),
    }),
  ),
  warnings: z.array(z.string()),
});
export type WhatIfView = z.output<typeof WhatIfViewSchema>;

/**
 * For each voter: if it failed now (membership unchanged, one healthy fewer — a failed member still
 * counts towards the quorum), would etcd keep quorum, and how many more failures could it take.
 * Warnings in the spirit of Omni's: counts that add risk without tolerance, and exact quorum.
 */
export function whatIf(voters: readonly VoterHealth[], orphans = 0): WhatIfView {
  const p = quorumPicture(voters, orphans);
  const servers = voters.map((v) => {
    const healthyAfter = p.healthy - (v.healthy ? 1 : 0);
    const quorumKept = healthyAfter >= p.quorum;
    return { node: v.node, ifLost: { quorumKept, toleranceLeft: quorumKept ? healthyAfter - p.quorum : 0 } };
  });
  return { servers, warnings: quorumWarnings(p) };
}

export function quorumWarnings(p: QuorumPicture): string[] {
  const out: string[] = [];
  const unhealthy = p.members - p.healthy;
  if (p.members === 0) return out;
  if (p.healthy < p.quorum)
    out.push(
      `etcd has lost quorum: ${p.healthy} of ${p.members} members healthy, ${p.quorum} needed; the control plane is stopped until a member comes back`,
    );
  else if (p.members > 1 && p.healthy === p.quorum)
    out.push(
      `etcd has exactly quorum: one more loss stops the control plane (${p.healthy} of ${p.members} members healthy${unhealthy > 0 ? `; bring back or remove the ${unhealthy} unhealthy one(s)` : ""})`,
    );
  if (p.members === 1)
    out.push("1 server: no fault tolerance; losing it stops the control plane; add 2 more servers for HA");
  else if (p.members === 2)
    out.push("2 servers tolerate no failure: losing either stops the control plane; add a third server");
  else if (p.members % 2 === 0)
    out.push(
      `${p.members} servers tolerate only ${faultTolerance(p.members)} failure(s), the same as ${p.members - 1}: an even count adds risk without tolerance; use an odd number`,
    );
  return out;
}
