import { type NodeFacts, NodeNameTaken, type Role, RoleConflict } from "@muster/shared";
import { REJOIN_PENDING } from "../../operations/rejoin.ts";
import { claimIdentity, moveIdentity } from "./approval.ts";
import type { TransitionDeps } from "./deps.ts";

// (none) -> enrolled, or a known machine enrolled again. The machine id maps a re-enrolling machine
// back to its node, so a reinstalled agent keeps its name, role and state (docs/architecture.md,
// invariant 6), but only with the operator's consent (approval.ts): otherwise the machine waits
// in pending-approval. The join token's use is counted in the same transaction.

/** A machine the join token admitted, as enrolment (../enrolment.ts) validated it. */
export interface Enrolment {
  name: string;
  machineId: string;
  role: Role;
  address: string;
  facts: NodeFacts;
  credentialHash: string;
  joinTokenId: string;
  /** The join token was minted with --replace: a known identity may move to this machine. */
  replace?: boolean;
  /** Where the connection came from (events name it). */
  remote?: string;
  /**
   * "grouped": this enrolment shares its fsync with the others of the same turn (store/db.ts); the
   * caller must not hand out the credential before `durable()` resolves. Default "full".
   */
  durability?: "full" | "grouped";
}

export interface Enrolled {
  node: string;
  reenrolled: boolean;
  /** Set when the machine claims a known identity and waits for approval: why. */
  pendingApproval?: string;
}

export function enrol(d: TransitionDeps, e: Enrolment): Enrolled {
  const { store } = d;
  return store.tx(() => {
    const result = enrolOrReenrol(d, e);
    store.tokens.countUse(e.joinTokenId, d.now());
    store.afterCommit(() => {
      d.log.info(
        { node: result.node, role: e.role, joinTokenId: e.joinTokenId, reenrolled: result.reenrolled },
        "node enrolled",
      );
      d.changes.notify();
    });
    return result;
  }, e.durability ?? "full");
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
    // The same machine as the removed node (no identity moves): it is cleaned and joins again.
    if (known.state === "removed") return rejoin(d, known.name, e);
    if (!e.replace)
      return { node: known.name, reenrolled: false, pendingApproval: claimIdentity(d, known.name, e) };
    const renamed =
      e.name !== known.name ? ` (requested name ${e.name} ignored: a machine keeps its node name)` : "";
    moveIdentity(d, known.name, e, `on a --replace join token (${e.joinTokenId})${renamed}`);
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
