import {
  type Logger,
  SECRET_TASK_RESULTS,
  type TaskKind,
  type TaskResultFrame,
  TaskResultSchemas,
  type TaskRunFrame,
} from "@muster/shared";
import type { HostAdapters } from "../adapters/types.ts";
import { type TaskContext, TaskFailed, type TaskHandler, type TaskHandlers } from "./types.ts";

// Runs the coordinator's task.run frames. The coordinator re-sends a task whose result it did not
// get (a reconnect, its own restart) under the same id, so: a task still running is joined, not
// started twice; a finished one is answered from the kept result (results holding a secret are not
// kept: the task runs again, which every task allows because each is idempotent).

const KEPT_RESULTS = 128;

export interface TaskRunnerOptions {
  host: HostAdapters;
  log: Logger;
  signal: AbortSignal;
  stateDir: string;
  handlers: TaskHandlers;
  /** Sends a task.progress frame. */
  progress(id: string, message: string): void;
}

export class TaskRunner {
  readonly #opts: TaskRunnerOptions;
  readonly #running = new Map<string, Promise<TaskResultFrame>>();
  readonly #done = new Map<string, TaskResultFrame>();

  constructor(opts: TaskRunnerOptions) {
    this.#opts = opts;
  }

  run(frame: TaskRunFrame): Promise<TaskResultFrame> {
    const kept = this.#done.get(frame.id);
    if (kept) return Promise.resolve(kept);
    const running = this.#running.get(frame.id);
    if (running) return running;
    const started = this.#execute(frame).finally(() => this.#running.delete(frame.id));
    this.#running.set(frame.id, started);
    return started;
  }

  async #execute(frame: TaskRunFrame): Promise<TaskResultFrame> {
    const { kind } = frame.task;
    const log = this.#opts.log.child({ task: frame.id, kind });
    const handler = this.#opts.handlers[kind] as TaskHandler<TaskKind> | undefined;
    let reply: TaskResultFrame;
    if (!handler) {
      reply = {
        type: "task.result",
        id: frame.id,
        ok: false,
        message: `this agent cannot run ${kind} tasks`,
      };
    } else {
      const ctx: TaskContext = {
        host: this.#opts.host,
        log,
        signal: this.#opts.signal,
        stateDir: this.#opts.stateDir,
        progress: (message) => this.#opts.progress(frame.id, message.slice(0, 1000)),
      };
      log.info("task started");
      try {
        const result = TaskResultSchemas[kind].parse(await handler(frame.task as never, ctx));
        reply = { type: "task.result", id: frame.id, ok: true, result };
        log.info("task succeeded");
      } catch (err) {
        const message = err instanceof TaskFailed ? err.message : `${kind} failed: ${(err as Error).message}`;
        reply = { type: "task.result", id: frame.id, ok: false, message: message.slice(0, 4000) };
        log.warn({ reason: message }, "task failed");
      }
    }
    if (!SECRET_TASK_RESULTS.has(kind) || !reply.ok) this.#keep(reply);
    return reply;
  }

  #keep(reply: TaskResultFrame): void {
    this.#done.set(reply.id, reply);
    if (this.#done.size > KEPT_RESULTS) this.#done.delete(this.#done.keys().next().value!);
  }
}
