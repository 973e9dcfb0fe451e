import { randomUUID } from "node:crypto";
import {
  type CoordinatorFrame,
  type Logger,
  type Task,
  type TaskInput,
  type TaskKind,
  type TaskResultFrame,
  type TaskResultOf,
  TaskResultSchemas,
  TaskSchema,
} from "@muster/shared";

// Asks agents to carry out day-two tasks (shared tasks.ts) and hands back their typed results. A task
// waits for its node to be connected (it is sent on every attach until answered), so an operation
// step survives an agent's reconnect; its id can be chosen by the caller, so a step re-run after a
// coordinator restart re-sends the same id and the agent joins the run it already has or answers
// from the result it kept, instead of doing the work twice. Results are validated against their
// kind's schema before anyone sees them; no result is ever logged (some hold secrets).

export interface TaskDispatcherDeps {
  /** Sends a frame to a connected node; false when it has no live link. */
  send(node: string, frame: CoordinatorFrame): boolean;
  log: Logger;
}

export interface RunTaskOptions {
  /** Give up (TaskTimedOut) after this long, connected or not. */
  timeoutMs: number;
  /** Deterministic id (an operation step's); default a random one. */
  id?: string;
  /** Progress lines the agent sends while the task runs. */
  onProgress?: (message: string) => void;
  signal?: AbortSignal;
}

/** The agent answered ok:false; `message` is the agent's, safe to show. */
export class TaskFailedError extends Error {
  override name = "TaskFailedError";
  readonly node: string;
  readonly kind: TaskKind;
  constructor(node: string, kind: TaskKind, message: string) {
    super(message);
    this.node = node;
    this.kind = kind;
  }
}

/** No answer in time (the node may be gone); the task may or may not have run. */
export class TaskTimedOutError extends Error {
  override name = "TaskTimedOutError";
  readonly node: string;
  readonly kind: TaskKind;
  constructor(node: string, kind: TaskKind, timeoutMs: number, connected: boolean) {
    super(
      `${kind} on ${node}: no answer within ${Math.round(timeoutMs / 1000)} s${connected ? "" : " (the node's agent is not connected)"}`,
    );
    this.node = node;
    this.kind = kind;
  }
}

interface Pending {
  node: string;
  task: Task;
  frame: CoordinatorFrame;
  sent: boolean;
  resolve(result: unknown): void;
  reject(err: Error): void;
  onProgress: ((message: string) => void) | undefined;
  cleanup(): void;
}

export function createTaskDispatcher(deps: TaskDispatcherDeps) {
  const pending = new Map<string, Pending>();

  function trySend(p: Pending): void {
    p.sent = deps.send(p.node, p.frame) || p.sent;
  }

  function run<K extends TaskKind>(
    node: string,
    input: TaskInput & { kind: K },
    opts: RunTaskOptions,
  ): Promise<TaskResultOf<K>> {
    const task = TaskSchema.parse(input);
    const id = opts.id ?? randomUUID();
    if (pending.has(id)) return Promise.reject(new Error(`task ${id} is already running`));
    return new Promise<TaskResultOf<K>>((resolve, reject) => {
      const timer = setTimeout(() => {
        settle(() => reject(new TaskTimedOutError(node, task.kind, opts.timeoutMs, entry.sent)));
      }, opts.timeoutMs);
      const onAbort = () => settle(() => reject(opts.signal?.reason ?? new Error("aborted")));
      opts.signal?.addEventListener("abort", onAbort, { once: true });
      const settle = (fn: () => void) => {
        if (pending.get(id) !== entry) return;
        entry.cleanup();
        fn();
      };
      const entry: Pending = {
        node,
        task,
        frame: { type: "task.run", id, task },
        sent: false,
        resolve: (r) => settle(() => resolve(r as TaskResultOf<K>)),
        reject: (e) => settle(() => reject(e)),
        onProgress: opts.onProgress,
        cleanup: () => {
          clearTimeout(timer);
          opts.signal?.removeEventListener("abort", onAbort);
          pending.delete(id);
        },
      };
      pending.set(id, entry);
      deps.log.info({ node, task: id, kind: task.kind }, "task sent");
      trySend(entry);
    });
  }

  return {
    run,

    /** A node (re)connected: send it every task still waiting for its answer. */
    attached(node: string): void {
      for (const p of pending.values()) if (p.node === node) trySend(p);
    },

    /** task.result from `node`. A result for another node's task, or an unknown id, is ignored. */
    result(node: string, frame: TaskResultFrame): void {
      const p = pending.get(frame.id);
      if (!p || p.node !== node) {
        deps.log.info({ node, task: frame.id }, "task result for no task of this node ignored");
        return;
      }
      const kind = p.task.kind;
      if (!frame.ok) {
        deps.log.warn({ node, task: frame.id, kind, reason: frame.message }, "task failed");
        p.reject(new TaskFailedError(node, kind, frame.message ?? `${kind} failed on ${node}`));
        return;
      }
      const parsed = TaskResultSchemas[kind].safeParse(frame.result ?? {});
      if (!parsed.success) {
        deps.log.warn({ node, task: frame.id, kind }, "task result does not match its kind's schema");
        p.reject(new TaskFailedError(node, kind, `${kind} on ${node} answered a malformed result`));
        return;
      }
      // Never the result itself: some hold secrets (SECRET_TASK_RESULTS), none is needed in a log.
      deps.log.info({ node, task: frame.id, kind }, "task succeeded");
      p.resolve(parsed.data);
    },

    /** task.progress from `node`. */
    progress(node: string, id: string, message: string): void {
      const p = pending.get(id);
      if (p && p.node === node) p.onProgress?.(message);
    },

    /** Tasks waiting for an answer (for views and tests). */
    inFlight(): { id: string; node: string; kind: TaskKind }[] {
      return [...pending].map(([id, p]) => ({ id, node: p.node, kind: p.task.kind }));
    },

    /** Shutdown: every waiting task fails with `reason`. */
    closeAll(reason: string): void {
      for (const p of [...pending.values()]) p.reject(new Error(reason));
    },
  };
}

export type TaskDispatcher = ReturnType<typeof createTaskDispatcher>;
