import { type NodeFacts, NodeNameTaken, type Role, RoleConflict } from "@muster/shared";
import { REJOIN_PENDING } from "../../operations/rejoin.ts";
import type { TransitionDeps } from "./deps.ts";

// (none) -> enrolled, or a known machine enrolled again. The machine id maps a re-enrolling machine
// back to its node, so a reinstalled agent keeps its name, role and state (docs/architecture.md,
// invariant 6). The join token's use is counted in the same transaction.

const PRE_RELEASE = new Set(["enrolled", "checking", "waiting", "check-failed"]);

/** A machine the join token admitted, as enrolment (../enrolment.ts) validated it. */
export interface Enrolment {
  name: string;
  machineId: string;
  role: Role;
  address: string;
  facts: NodeFacts;
  credentialHash: string;
  joinTokenId: string;
}

export interface Enrolled {
  node: string;
  reenrolled: boolean;
}

export function enrol(d: TransitionDeps, e: Enrolment): Enrolled {
  const { store } = d;
  return store.tx(() => {
    const result = enrolOrReenrol(d, e);
    store.tokens.countUse(e.joinTokenId);
    store.afterCommit(() => {
      d.log.info(
        { node: result.node, role: e.role, joinTokenId: e.joinTokenId, reenrolled: result.reenrolled },
        "node enrolled",
      );
      d.changes.notify();
    });
    return result;
  });
}

/**
 * A removed node's machine enrolls again: it starts over, but waits (state removed, phase
 * "rejoin pending") for the cleanup RKE2 needs under its old name (operations/rejoin.ts).
 */
function rejoin(d: TransitionDeps, name: string, e: Enrolment): Enrolled {
  d.store.nodes.update(name, {
    credentialHash: e.credentialHash,
    facts: e.facts,
    address: e.address,
    init: false,
    plan: null,
    planChecksum: null,
    releasedAt: null,
    joinedAt: null,
    checks: null,
    checksRequestId: null,
    attempts: 0,
    phase: REJOIN_PENDING,
    message:
      "enrolled again after its removal: stale member, server/db and node-password secret are cleaned first",
    stateSince: d.now(),
  });
  d.store.events.append(
    "node.rejoin.cleanup",
    name,
    `${e.role} ${name} enrolled again after its removal; cleanup queued before it joins`,
  );
  return { node: name, reenrolled: true };
}

function enrolOrReenrol(d: TransitionDeps, e: Enrolment): Enrolled {
  const { store } = d;
  const known = store.nodes.byMachineId(e.machineId);
  if (known) {
    if (known.role !== e.role) throw new RoleConflict(known, e.role);
    if (known.state === "removed") return rejoin(d, known.name, e);
    // Same node: new credential (the old one stops working), fresh facts; the address is kept
    // once a plan was released, because it is in the node's RKE2 config.
    store.nodes.update(known.name, {
      credentialHash: e.credentialHash,
      facts: e.facts,
      ...(PRE_RELEASE.has(known.state) ? { address: e.address } : {}),
    });
    const renamed =
      e.name !== known.name ? ` (requested name ${e.name} ignored: a machine keeps its node name)` : "";
    store.events.append(
      "node.enrolled",
      known.name,
      `${known.role} ${known.name} re-enrolled, state ${known.state} kept${renamed}`,
    );
    return { node: known.name, reenrolled: true };
  }
  if (store.nodes.summary(e.name)) throw new NodeNameTaken(e.name);
  store.nodes.insert({
    name: e.name,
    machineId: e.machineId,
    role: e.role,
    address: e.address,
    facts: e.facts,
    credentialHash: e.credentialHash,
    now: d.now(),
  });
  store.events.append(
    "node.enrolled",
    e.name,
    `${e.role} ${e.name} enrolled from ${e.address} (join token ${e.joinTokenId})`,
  );
  return { node: e.name, reenrolled: false };
}
