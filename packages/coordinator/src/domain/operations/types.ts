import type { Logger, OperationType } from "@muster/shared";
import type { OperationRecord, StepRecord } from "../../store/operations-repo.ts";

// What an operation type is made of. The steps of one operation are planned when it is requested
// (a list of {name, kind, args}, stored with it); each kind is an implementation that carries the
// step out. A step must be idempotent: after a coordinator restart the step that was running runs
// again from its start, so it first looks at the world (is the member already gone? is the node
// already cordoned?) and only then acts. Task ids from ctx.taskId() are the same on every run of a
// step, so an agent that already did the work answers from its kept result.

export interface StepContext<Args = unknown> {
  /** The operation as it was when the step started. */
  readonly op: OperationRecord;
  readonly step: StepRecord;
  readonly index: number;
  readonly args: Args;
  /** Aborted when the coordinator shuts down: stop at a safe point (the step re-runs on restart). */
  readonly signal: AbortSignal;
  readonly log: Logger;
  /** What the step is doing or waiting for, in words: shown as the step's message and the reason. */
  progress(message: string): void;
  /** A task id that is the same on every run of this step (`suffix` tells tasks of a step apart). */
  taskId(suffix?: string): string;
}

export interface StepOutcome {
  /** skipped: there was nothing to do (e.g. the node was not the etcd leader). */
  state?: "succeeded" | "skipped";
  message?: string;
}

export interface StepKind<Args = unknown> {
  run(ctx: StepContext<Args>): Promise<StepOutcome | undefined>;
}

export interface OperationDefinition {
  type: OperationType;
  /** Holds the control-plane lease while running (removal, upgrade, restore; not a backup). */
  controlPlane: boolean;
  kinds: Record<string, StepKind<never>>;
  /** Runs in the transaction that marks the operation failed (e.g. tell the node how to go on). */
  onFailed?(op: OperationRecord, reason: string): void;
}

/**
 * A step cannot go on: the operation fails with this message (safe to show; never a secret). A
 * `transient` failure (e.g. no healthy server to act through right now) is retried like a timeout.
 */
export class StepFailed extends Error {
  override name = "StepFailed";
  readonly transient: boolean;
  constructor(message: string, opts: { transient?: boolean } = {}) {
    super(message);
    this.transient = opts.transient ?? false;
  }
}

/**
 * What etcd, the apiserver and the agent link answer when they are slow or between leaders: worth
 * another try of an idempotent step (docs/operations.md#when-a-removal-fails).
 */
const TRANSIENT =
  /timed? ?out|timeout|deadline exceeded|no leader|leader changed|unhealthy cluster|too many requests|connection (refused|reset)|ECONNREFUSED|ECONNRESET|EPIPE|socket hang up|not connected|link (dropped|closed)|temporarily unavailable|etcdserver: request/i;

/** A step's error is worth retrying (a timeout, an agent link drop, etcd or the apiserver busy). */
export function isTransient(err: unknown): boolean {
  if (err instanceof StepFailed) return err.transient;
  if (!(err instanceof Error)) return false;
  if (err.name === "TaskTimedOutError") return true;
  return TRANSIENT.test(err.message);
}
