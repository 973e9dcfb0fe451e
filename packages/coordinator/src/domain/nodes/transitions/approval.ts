import { NodeNotFound, NodePendingApproval, NothingToApprove } from "@muster/shared";
import type { NodeClaim } from "../../../store/claims-repo.ts";
import type { TransitionDeps } from "./deps.ts";
import type { Enrolment } from "./enrol.ts";

// Consent to re-enrol (docs/architecture.md#invariant-11). A machine id is not a secret: anyone who
// read /etc/machine-id and holds a join token of the role could otherwise become that node, take its
// plans (the token with them) and lock the real agent out. So a known identity moves to the machine
// that asks only with the operator's consent: `muster nodes approve NAME`, or a join token minted
// with --replace. Until then the newcomer holds a claim (its own credential, hashed) and waits in
// pending-approval, while the node's current credential keeps working.

const PRE_RELEASE = new Set(["enrolled", "checking", "waiting", "check-failed"]);

function describe(c: Pick<NodeClaim, "facts" | "address" | "remote" | "joinTokenId">): string {
  return `machine ${c.facts.hostname} (${c.address}, connected from ${c.remote}) with join token ${c.joinTokenId}`;
}

/** The newcomer's claim on a known node: recorded, not granted. Returns the reason it waits. */
export function claimIdentity(d: TransitionDeps, node: string, e: Enrolment): string {
  const { store } = d;
  const claim = {
    node,
    machineId: e.machineId,
    credentialHash: e.credentialHash,
    address: e.address,
    facts: e.facts,
    joinTokenId: e.joinTokenId,
    remote: e.remote ?? e.address,
    requestedAt: d.now(),
  };
  store.claims.put(claim);
  const reason = new NodePendingApproval(node).message;
  store.events.append(
    "node.approval.pending",
    node,
    `${describe(claim)} asks to take over node ${node}; waiting for \`muster nodes approve ${node}\``,
  );
  store.afterCommit(() =>
    d.log.warn({ node, remote: claim.remote, joinTokenId: e.joinTokenId }, "re-enrolment waits for approval"),
  );
  return reason;
}

/** The node's identity moves to `e`'s machine now (a --replace token, or an approved claim). */
export function moveIdentity(
  d: TransitionDeps,
  node: string,
  e: Pick<Enrolment, "credentialHash" | "facts" | "address" | "machineId">,
  why: string,
): void {
  const { store } = d;
  const known = store.nodes.summary(node);
  if (!known) throw new NodeNotFound(node);
  // A new credential (the old one stops working), fresh facts; the address is kept once a plan was
  // released, because it is in the node's RKE2 config.
  store.nodes.update(node, {
    credentialHash: e.credentialHash,
    facts: e.facts,
    ...(PRE_RELEASE.has(known.state) ? { address: e.address } : {}),
  });
  store.claims.delete(node);
  store.events.append(
    "node.enrolled",
    node,
    `${known.role} ${node} moved to machine ${e.facts.hostname} (${e.address}) ${why}; state ${known.state} kept, the previous credential no longer works`,
  );
}

/** The operator's consent: the waiting machine may take over when it next connects. */
export function approve(d: TransitionDeps, node: string): void {
  const { store } = d;
  store.tx(() => {
    if (!store.nodes.summary(node)) throw new NodeNotFound(node);
    const claim = store.claims.get(node);
    if (!claim) throw new NothingToApprove(node);
    if (claim.approvedAt !== null) return; // approving twice is a no-op
    store.claims.approve(node, d.now());
    store.events.append(
      "node.approved",
      node,
      `operator approved ${describe(claim)} to take over node ${node}`,
    );
    store.afterCommit(() => d.log.info({ node, remote: claim.remote }, "re-enrolment approved"));
  });
}

/**
 * A hello with a credential that is not the node's: the claim's holder. Approved: the identity
 * moves now. Otherwise it keeps waiting (NodePendingApproval). Null: no claim holds it.
 */
export function claimFor(d: Pick<TransitionDeps, "store">, node: string): NodeClaim | null {
  return d.store.claims.get(node);
}
