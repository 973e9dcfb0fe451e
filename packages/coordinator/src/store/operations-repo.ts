import type { OperationState, OperationType, StepState } from "@muster/shared";
import type { Db } from "./db.ts";

// Operation rows. Steps are planned when the operation is created and stored with it, so a restarted
// coordinator resumes the same steps at the one it reached. Params and step messages never hold a
// secret: what an operation needs that is secret (the token, the S3 key) stays in the vault.

export interface StepRecord {
  /** Shown to people, e.g. "drain server-2". */
  name: string;
  /** Which step implementation runs it (the operation type's step kinds). */
  kind: string;
  /** The step's own parameters (JSON). */
  args: unknown;
  state: StepState;
  message: string | null;
  startedAt: number | null;
  endedAt: number | null;
  /** How many times the step was started (retries after transient errors, resumed removals). */
  attempts?: number;
  /** The last error of an attempt that was retried (or that failed the step). */
  lastError?: string | null;
  /**
   * How many coordinator restarts resumed the operation at this step (it ran again from its start,
   * same attempt, same task ids).
   */
  restarts?: number;
}

export interface OperationRecord {
  id: string;
  seq: number;
  type: OperationType;
  node: string | null;
  state: OperationState;
  controlPlane: boolean;
  params: unknown;
  steps: StepRecord[];
  /** Index of the step to run next (steps.length when all ran). */
  step: number;
  reason: string | null;
  requestedBy: string | null;
  createdAt: number;
  startedAt: number | null;
  endedAt: number | null;
}

export interface NewOperation {
  id: string;
  type: OperationType;
  node: string | null;
  controlPlane: boolean;
  params: unknown;
  steps: Pick<StepRecord, "name" | "kind" | "args">[];
  requestedBy: string | null;
  state: OperationState;
  now: number;
}

export type OperationChanges = Partial<
  Pick<OperationRecord, "state" | "steps" | "step" | "reason" | "startedAt" | "endedAt">
>;

type Row = Record<string, string | number | null>;

function toRecord(r: Row): OperationRecord {
  return {
    id: r["id"] as string,
    seq: r["seq"] as number,
    type: r["type"] as OperationType,
    node: r["node"] as string | null,
    state: r["state"] as OperationState,
    controlPlane: r["control_plane"] === 1,
    params: JSON.parse(r["params"] as string),
    steps: JSON.parse(r["steps"] as string) as StepRecord[],
    step: r["step"] as number,
    reason: r["reason"] as string | null,
    requestedBy: r["requested_by"] as string | null,
    createdAt: r["created_at"] as number,
    startedAt: r["started_at"] as number | null,
    endedAt: r["ended_at"] as number | null,
  };
}

const COLUMNS: Record<keyof OperationChanges, string> = {
  state: "state",
  steps: "steps",
  step: "step",
  reason: "reason",
  startedAt: "started_at",
  endedAt: "ended_at",
};

export function createOperationsRepo(db: Db) {
  const insert = db.sql.prepare(
    `INSERT INTO operations (id, seq, type, node, state, control_plane, params, steps, requested_by, created_at, started_at)
     VALUES (?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM operations), ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const get = db.sql.prepare("SELECT * FROM operations WHERE id = ?");
  const open = db.sql.prepare("SELECT * FROM operations WHERE state IN ('pending', 'running') ORDER BY seq");
  const recent = db.sql.prepare("SELECT * FROM operations ORDER BY seq DESC LIMIT ?");

  return {
    insert(op: NewOperation): OperationRecord {
      const steps: StepRecord[] = op.steps.map((s) => ({
        ...s,
        state: "pending",
        message: null,
        startedAt: null,
        endedAt: null,
      }));
      insert.run(
        op.id,
        op.type,
        op.node,
        op.state,
        op.controlPlane ? 1 : 0,
        JSON.stringify(op.params ?? {}),
        JSON.stringify(steps),
        op.requestedBy,
        op.now,
        op.state === "running" ? op.now : null,
      );
      return toRecord(get.get(op.id) as Row);
    },
    get(id: string): OperationRecord | null {
      const row = get.get(id) as Row | undefined;
      return row ? toRecord(row) : null;
    },
    /** Pending and running operations, oldest first. */
    open(): OperationRecord[] {
      return (open.all() as Row[]).map(toRecord);
    },
    /** The newest operations first. */
    recent(limit: number): OperationRecord[] {
      return (recent.all(limit) as Row[]).map(toRecord);
    },
    update(id: string, changes: OperationChanges): void {
      const keys = Object.keys(changes) as (keyof OperationChanges)[];
      if (keys.length === 0) return;
      const sets = keys.map((k) => `${COLUMNS[k]} = ?`).join(", ");
      const values = keys.map((k) => {
        const v = changes[k];
        return k === "steps" ? JSON.stringify(v) : (v as string | number | null);
      });
      db.sql.prepare(`UPDATE operations SET ${sets} WHERE id = ?`).run(...values, id);
    },
  };
}

export type OperationsRepo = ReturnType<typeof createOperationsRepo>;
