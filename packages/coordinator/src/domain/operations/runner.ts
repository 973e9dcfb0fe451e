import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { type Logger, MusterError, OperationInFlight, type OperationType } from "@muster/shared";
import type { Lease } from "../../store/lease-repo.ts";
import type { OperationRecord, OperationsRepo, StepRecord } from "../../store/operations-repo.ts";
import type { Store } from "../../store/store.ts";
import { iso } from "../time.ts";
import { isTransient, type OperationDefinition, StepFailed, type StepKind } from "./types.ts";

// Runs long-running operations: persisted, one step at a time, resumable. A control-plane operation
// takes the control-plane lease in the same transaction that creates it, so it never runs beside a
// server join or another control-plane operation (docs/architecture.md, invariant 9), and holds it
// until it ends. After a restart, running operations resume at the step they reached (that step
// runs again: steps are idempotent, types.ts). Only one driver runs per operation.

export interface OperationRunnerDeps {
  store: Pick<Store, "tx" | "afterCommit" | "events"> & {
    operations: OperationsRepo;
    lease: Pick<Store["lease"], "current" | "takeForOperation" | "releaseOperation">;
  };
  log: Logger;
  now(): number;
  definitions: readonly OperationDefinition[];
  /** Told after an operation ended (the lease may be free: plan again). */
  onChanged(): void;
  /** Describes who holds the lease, for OPERATION_IN_FLIGHT's message. */
  describeLease?(lease: Lease): string;
  /** Retries of a step after a transient error (isTransient): back-off doubling up to maxMs. */
  retry?: Partial<RetryPolicy>;
}

export interface RetryPolicy {
  /** A step keeps being retried for this long after its first attempt of this run, then fails. */
  deadlineMs: number;
  firstMs: number;
  maxMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { deadlineMs: 5 * 60_000, firstMs: 1000, maxMs: 20_000 };

export interface OperationRequest {
  type: OperationType;
  node: string | null;
  params?: unknown;
  steps: { name: string; kind: string; args?: unknown }[];
  requestedBy?: string | null;
  /** Runs inside the creating transaction, before anything is written: throw to refuse. */
  guard?(): void;
}

const MAX_MESSAGE = 1000;
const clip = (s: string) => (s.length > MAX_MESSAGE ? `${s.slice(0, MAX_MESSAGE - 1)}…` : s);

export function newOperationId(now: number): string {
  return `op-${now.toString(36)}-${randomBytes(3).toString("hex")}`;
}

export function createOperationRunner(deps: OperationRunnerDeps) {
  const { store, log } = deps;
  const definitions = new Map(deps.definitions.map((d) => [d.type, d]));
  const drivers = new Map<string, Promise<void>>();
  const abort = new AbortController();
  const retry: RetryPolicy = { ...DEFAULT_RETRY, ...deps.retry };

  function definition(type: OperationType): OperationDefinition {
    const d = definitions.get(type);
    if (!d) throw new Error(`no operation type ${type}`);
    return d;
  }

  function inFlight(lease: Lease): MusterError {
    const holder =
      deps.describeLease?.(lease) ??
      (lease.kind === "server-join"
        ? `server ${lease.node} is joining`
        : `operation ${lease.operationId} is running`);
    const held = lease.kind === "server-join" ? lease.node : lease.operationId;
    return new OperationInFlight(holder, iso(lease.since), held);
  }

  /** Creates (and, when it may, starts) an operation; throws OPERATION_IN_FLIGHT or the guard's error. */
  function submit(req: OperationRequest): OperationRecord {
    const def = definition(req.type);
    for (const s of req.steps)
      if (!def.kinds[s.kind]) throw new Error(`operation ${req.type} has no step kind ${s.kind}`);
    const now = deps.now();
    const id = newOperationId(now);
    const op = store.tx(() => {
      if (def.controlPlane) {
        const lease = store.lease.current();
        if (lease) throw inFlight(lease);
      }
      req.guard?.();
      const record = store.operations.insert({
        id,
        type: req.type,
        node: req.node,
        controlPlane: def.controlPlane,
        params: req.params ?? {},
        steps: req.steps.map((s) => ({ name: s.name, kind: s.kind, args: s.args ?? {} })),
        requestedBy: req.requestedBy ?? null,
        state: "running",
        now,
      });
      if (def.controlPlane) store.lease.takeForOperation(id, req.node, now);
      const about = req.node ? ` of ${req.node}` : "";
      store.events.append(
        "operation.requested",
        req.node,
        `${req.type}${about} requested (operation ${id}, ${req.steps.length} steps${req.requestedBy ? `, from ${req.requestedBy}` : ""})`,
      );
      return record;
    });
    log.info(
      { operation: id, type: req.type, node: req.node, requestedBy: req.requestedBy },
      "operation started",
    );
    store.afterCommit(() => drive(op.id));
    return op;
  }

  /**
   * Runs a failed operation again from the step it failed at (that step gets a new attempt), under
   * the lease like a new one; `guard` runs in the same transaction (throw to refuse). Throws
   * OPERATION_IN_FLIGHT while someone else holds the lease.
   */
  function resume(
    id: string,
    opts: {
      requestedBy?: string | null;
      guard?(op: OperationRecord): void;
      args?(args: unknown): unknown;
    } = {},
  ): OperationRecord {
    const now = deps.now();
    const op = store.tx(() => {
      const failed = store.operations.get(id);
      if (failed?.state !== "failed") throw new Error(`operation ${id} is not failed`);
      if (failed.controlPlane) {
        const lease = store.lease.current();
        if (lease) throw inFlight(lease);
      }
      opts.guard?.(failed);
      const steps = failed.steps.map((s, i) =>
        i < failed.step
          ? s
          : { ...s, state: "pending" as const, endedAt: null, args: opts.args ? opts.args(s.args) : s.args },
      );
      const reason = `resumed at step ${failed.step + 1} (${failed.steps[failed.step]?.name ?? "end"})`;
      store.operations.update(id, { state: "running", steps, reason, endedAt: null });
      if (failed.controlPlane) store.lease.takeForOperation(id, failed.node, now);
      store.events.append(
        "operation.requested",
        failed.node,
        `${failed.type}${failed.node ? ` of ${failed.node}` : ""} ${reason} (operation ${id}${opts.requestedBy ? `, from ${opts.requestedBy}` : ""})`,
      );
      return store.operations.get(id)!;
    });
    log.info({ operation: id, type: op.type, node: op.node, step: op.step }, "operation resumed");
    store.afterCommit(() => drive(op.id));
    return op;
  }

  function drive(id: string): void {
    if (drivers.has(id) || abort.signal.aborted) return;
    const run = execute(id)
      .catch((err) => log.error({ operation: id, err: (err as Error).message }, "operation driver failed"))
      .finally(() => drivers.delete(id));
    drivers.set(id, run);
  }

  function saveStep(
    op: OperationRecord,
    index: number,
    changes: Partial<StepRecord>,
    extra = {},
  ): OperationRecord {
    const steps = op.steps.map((s, i) => (i === index ? { ...s, ...changes } : s));
    return { ...op, steps, ...extra };
  }

  async function execute(id: string): Promise<void> {
    let op = store.operations.get(id);
    if (op?.state !== "running") return;
    const def = definition(op.type);
    let retrying = { index: -1, since: 0, delay: retry.firstMs };
    while (op.step < op.steps.length) {
      if (abort.signal.aborted) return;
      const index = op.step;
      const step = op.steps[index]!;
      const started = deps.now();
      if (retrying.index !== index) retrying = { index, since: started, delay: retry.firstMs };
      // Counted across runs and resumptions: a retried attempt's task ids are new (an agent keeps a
      // failed task's answer under its id), a re-run after a restart keeps the attempt's ids.
      const attempt = step.state === "running" ? (step.attempts ?? 1) : (step.attempts ?? 0) + 1;
      op = saveStep(op, index, {
        state: "running",
        startedAt: step.startedAt ?? started,
        message: null,
        attempts: attempt,
      });
      const current = op;
      store.tx(() => {
        store.operations.update(id, { steps: current.steps, reason: null });
        store.events.append(
          "operation.step",
          current.node,
          `${current.type} ${id}: ${step.name} started${attempt > 1 ? ` (attempt ${attempt})` : ""}`,
        );
      });
      let message: string | null = null;
      const kind = def.kinds[step.kind] as StepKind<unknown>;
      try {
        const outcome = await kind.run({
          op: current,
          step: current.steps[index]!,
          index,
          args: step.args,
          signal: abort.signal,
          log: log.child({ operation: id, step: step.name }),
          progress: (text) => {
            message = clip(text);
            const steps = (store.operations.get(id)?.steps ?? current.steps).map((s, i) =>
              i === index ? { ...s, message } : s,
            );
            // Relaxed: progress is re-derived by the step when it runs again after a restart.
            store.tx(() => store.operations.update(id, { steps, reason: message }), "relaxed");
          },
          taskId: (suffix) =>
            `${id}-${index}${attempt > 1 ? `-a${attempt}` : ""}${suffix ? `-${suffix}` : ""}`,
        });
        if (abort.signal.aborted) return;
        const state = outcome?.state ?? "succeeded";
        const text = outcome?.message ?? message;
        op = saveStep(op, index, { state, endedAt: deps.now(), message: text }, { step: index + 1 });
        const done = op;
        store.tx(() => {
          store.operations.update(id, { steps: done.steps, step: done.step, reason: null });
          store.events.append(
            "operation.step",
            done.node,
            `${done.type} ${id}: ${step.name} ${state}${text ? `: ${text}` : ""}`,
          );
        });
      } catch (err) {
        if (abort.signal.aborted) return; // shutting down: the step runs again after the restart
        const reason = clip(
          err instanceof StepFailed || err instanceof MusterError
            ? err.message
            : `${step.name}: ${(err as Error).message}`,
        );
        const left = retrying.since + retry.deadlineMs - deps.now();
        if (isTransient(err) && left > 0) {
          const delay = Math.min(retrying.delay, retry.maxMs, left);
          retrying.delay = Math.min(retrying.delay * 2, retry.maxMs);
          const note = clip(
            `attempt ${attempt} failed: ${reason}; retrying in ${Math.max(1, Math.round(delay / 1000))} s`,
          );
          // Back to pending with the error kept: a restart during the back-off runs the next attempt.
          op = saveStep(op, index, { state: "pending", message: note, lastError: reason });
          const waiting = op;
          store.tx(() => {
            store.operations.update(id, { steps: waiting.steps, reason: note });
            store.events.append(
              "operation.step",
              waiting.node,
              `${waiting.type} ${id}: ${step.name} ${note}`,
            );
          });
          log.warn({ operation: id, step: step.name, attempt, reason }, "step failed, retrying");
          await sleep(delay, undefined, { signal: abort.signal }).catch(() => undefined);
          continue;
        }
        const final = isTransient(err)
          ? clip(`${reason} (gave up after ${attempt} attempts in ${Math.round(retry.deadlineMs / 1000)} s)`)
          : reason;
        finish(
          op,
          "failed",
          final,
          saveStep(op, index, { state: "failed", endedAt: deps.now(), message: final, lastError: reason })
            .steps,
        );
        return;
      }
    }
    finish(op, "succeeded", null, op.steps);
  }

  /**
   * A running operation found at start-up (the coordinator stopped or crashed under it): recorded
   * before it is driven again, so its record shows the restart. The step it reached counts the
   * restart in `restarts` (it runs again from its start, with the same attempt and task ids) and an
   * operation.started event says where it resumed; the steps before it are not run again.
   */
  function resumeAfterRestart(op: OperationRecord): void {
    const index = op.step;
    const step = op.steps[index];
    const where = step ? `step ${index + 1} (${step.name})` : "its end";
    const reason = `resumed after a coordinator restart at ${where}`;
    const steps = step ? saveStep(op, index, { restarts: (step.restarts ?? 0) + 1 }).steps : op.steps;
    store.tx(() => {
      store.operations.update(op.id, { steps });
      store.events.append(
        "operation.started",
        op.node,
        `${op.type}${op.node ? ` of ${op.node}` : ""} ${reason} (operation ${op.id})`,
      );
    });
    log.info({ operation: op.id, type: op.type, step: index }, "operation resumed after a restart");
    drive(op.id);
  }

  function finish(
    op: OperationRecord,
    state: "succeeded" | "failed",
    reason: string | null,
    steps: StepRecord[],
  ): void {
    const now = deps.now();
    store.tx(() => {
      store.operations.update(op.id, { state, reason, steps, endedAt: now });
      if (state === "failed") definitions.get(op.type)?.onFailed?.({ ...op, steps }, reason ?? "");
      if (op.controlPlane) store.lease.releaseOperation(op.id);
      const about = op.node ? ` of ${op.node}` : "";
      store.events.append(
        state === "succeeded" ? "operation.succeeded" : "operation.failed",
        op.node,
        `${op.type}${about} ${state} (operation ${op.id})${reason ? `: ${reason}` : ""}`,
      );
    });
    if (state === "failed") log.warn({ operation: op.id, type: op.type, reason }, "operation failed");
    else log.info({ operation: op.id, type: op.type }, "operation succeeded");
    deps.onChanged();
  }

  return {
    submit,
    resume,
    get: (id: string) => store.operations.get(id),
    list: (limit = 100) => store.operations.recent(limit),
    /** Resumes running operations (after a restart) at the step each reached. */
    start(): void {
      const lease = store.lease.current();
      if (lease?.kind === "operation" && store.operations.get(lease.operationId)?.state !== "running") {
        // Cannot happen through submit/finish (lease and state change together); never keep a
        // lease nobody can end.
        log.warn(
          { operation: lease.operationId },
          "releasing a lease held by an operation that is not running",
        );
        store.tx(() => store.lease.releaseOperation(lease.operationId));
        deps.onChanged();
      }
      for (const op of store.operations.open()) if (op.state === "running") resumeAfterRestart(op);
    },
    /** Stops drivers at their next safe point; their steps run again after a restart. */
    async close(): Promise<void> {
      abort.abort(new Error("coordinator shutting down"));
      await Promise.allSettled([...drivers.values()]);
    },
    /** Resolves when every running driver has stopped (tests). */
    idle: () => Promise.allSettled([...drivers.values()]).then(() => undefined),
  };
}

export type OperationRunner = ReturnType<typeof createOperationRunner>;
