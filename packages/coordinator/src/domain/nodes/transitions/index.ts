import type { CheckResult, ClusterSpec } from "@muster/shared";
import type { AgentLink } from "../../service.ts";
import { approve, moveIdentity } from "./approval.ts";
import {
  checksContext,
  type PassChecksContext,
  prepare,
  recordChecks,
  requestChecks,
  vipMacOf,
} from "./checks.ts";
import { attach, detach, recoverAfterRestart } from "./connections.ts";
import type { TransitionDeps } from "./deps.ts";
import { type Enrolment, enrol } from "./enrol.ts";
import { currentPlan, failJoin, releasePlan, reportPhase, retry, succeedJoin } from "./joins.ts";
import { markLost } from "./loss.ts";

// Every change of a node's state, each in one transaction with its event (and the lease, for
// servers). Frames to agents go out only after the commit (store.afterCommit: a planning pass
// applies all its actions in one transaction, and a join's result shares its fsync with the other
// results of the same turn of the event loop, store/db.ts), so an agent never acts on a change that
// was lost. Changes the planner has not seen notify it after the commit (changes.ts).

export { checksContext, type PassChecksContext, PEERS_LIMIT, vipMacOf } from "./checks.ts";
export type { TransitionDeps, TransitionStore } from "./deps.ts";
export type { Enrolled, Enrolment } from "./enrol.ts";

export function createTransitions(d: TransitionDeps) {
  return {
    /** A machine admitted by a join token: a new node, or its node again (re-enrolment). */
    enrol: (e: Enrolment) => enrol(d, e),
    attach: (name: string, link: AgentLink, appliedChecksum: string | null) =>
      attach(d, name, link, appliedChecksum),
    detach: (name: string, link: AgentLink) => detach(d, name, link),
    requestChecks: (name: string, shared?: PassChecksContext) => requestChecks(d, name, shared),
    /** What the checks.run frames of one pass share, servers' VIP MACs from their facts included. */
    checksContext: (
      spec: ClusterSpec,
      nodes: Parameters<typeof checksContext>[1],
      registrationHealthy = false,
    ) => checksContext(spec, nodes, vipMacOf(d), registrationHealthy),
    recordChecks: (name: string, results: CheckResult[]) => recordChecks(d, name, results),
    prepare: (name: string) => prepare(d, name),
    releasePlan: (name: string, init: boolean) => releasePlan(d, name, init),
    reportPhase: (name: string, phase: string, status: string, detail: string | null) =>
      reportPhase(d, name, phase, status, detail),
    failJoin: (name: string, reason: string) => failJoin(d, name, reason),
    succeedJoin: (name: string) => succeedJoin(d, name),
    retry: (name: string) => retry(d, name),
    markLost: (name: string, reason: string) => markLost(d, name, reason),
    /** The operator's consent to the machine waiting to take over `name` (approval.ts). */
    approve: (name: string) => approve(d, name),
    /** The approved claim's holder connected: the identity moves to it now. */
    takeOver(name: string, facts: Enrolment["facts"]): void {
      d.store.tx(() => {
        const claim = d.store.claims.get(name);
        if (!claim || claim.approvedAt === null) return;
        moveIdentity(d, name, { ...claim, facts }, "after the operator's approval");
        d.store.afterCommit(() => {
          d.log.info({ node: name, remote: claim.remote }, "node identity moved to an approved machine");
          d.changes.notify();
        });
      });
    },
    recoverAfterRestart: () => recoverAfterRestart(d),
    currentPlan: (node: { plan: string | null }) => currentPlan(d, node),
  };
}

export type Transitions = ReturnType<typeof createTransitions>;
