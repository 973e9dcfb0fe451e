import type { CheckResult, NodeState, Role } from "@muster/shared";

// What the hot paths need to know about every node (the planner, frame handling, the cluster view),
// held in memory and written through by the nodes repository in the same code path as every row
// write, so a planning pass never reads or parses the table. Loaded once from the database when the
// store opens: the database stays the source of truth. Facts, checks and plans stay in the database
// and are read (and parsed) only where they are needed.
export interface NodeSummary {
  /** The row id: enrolment order, the planner's tie-break. */
  readonly seq: number;
  readonly name: string;
  readonly role: Role;
  readonly init: boolean;
  readonly state: NodeState;
  readonly address: string;
  readonly connected: boolean;
  readonly releasedAt: number | null;
  readonly message: string | null;
  readonly phase: string | null;
  /** Names of the checks that failed in the last results, in their order. */
  readonly failedChecks: readonly string[];
  readonly checksRequestId: string | null;
  readonly planChecksum: string | null;
  readonly attempts: number;
}

/** The columns a summary is made of (see summaryOf). */
export const SUMMARY_COLUMNS =
  "id, name, role, init, state, address, connected, released_at, message, phase, checks, checks_request_id, plan_checksum, attempts";

type Row = Record<string, string | number | null>;

const NONE: readonly string[] = Object.freeze([]);

export function failedChecksOf(checks: readonly CheckResult[] | null): readonly string[] {
  const failed = (checks ?? []).filter((c) => c.status === "fail").map((c) => c.name);
  return failed.length === 0 ? NONE : Object.freeze(failed);
}

export function summaryOf(r: Row): NodeSummary {
  return Object.freeze({
    seq: r["id"] as number,
    name: r["name"] as string,
    role: r["role"] as Role,
    init: r["init"] === 1,
    state: r["state"] as NodeState,
    address: r["address"] as string,
    connected: r["connected"] === 1,
    releasedAt: r["released_at"] as number | null,
    message: r["message"] as string | null,
    phase: r["phase"] as string | null,
    failedChecks: failedChecksOf(
      r["checks"] === null ? null : (JSON.parse(r["checks"] as string) as CheckResult[]),
    ),
    checksRequestId: r["checks_request_id"] as string | null,
    planChecksum: r["plan_checksum"] as string | null,
    attempts: r["attempts"] as number,
  });
}

/** Changes as the repository receives them (record field names; checks parsed). */
export interface SummaryChanges {
  init?: boolean;
  state?: NodeState;
  address?: string;
  connected?: boolean;
  releasedAt?: number | null;
  message?: string | null;
  phase?: string | null;
  checks?: readonly CheckResult[] | null;
  checksRequestId?: string | null;
  planChecksum?: string | null;
  attempts?: number;
}

const DIRECT = [
  "init",
  "state",
  "address",
  "connected",
  "releasedAt",
  "message",
  "phase",
  "checksRequestId",
  "planChecksum",
  "attempts",
] as const;

/** The summary after `changes`; the same object when none of them is a summary field. */
export function withChanges(s: NodeSummary, changes: SummaryChanges): NodeSummary {
  let next: Record<string, unknown> | null = null;
  for (const key of DIRECT) {
    if (!(key in changes)) continue;
    const value = changes[key] ?? null; // as the row gets it: undefined is written as NULL
    if (value === s[key]) continue;
    next ??= { ...s };
    next[key] = value;
  }
  if ("checks" in changes) {
    next ??= { ...s };
    next["failedChecks"] = failedChecksOf(changes.checks ?? null);
  }
  return next === null ? s : (Object.freeze(next) as unknown as NodeSummary);
}
