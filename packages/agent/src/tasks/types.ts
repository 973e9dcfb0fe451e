import type { Logger, Task, TaskKind, TaskResultOf } from "@muster/shared";
import type { HostAdapters } from "../adapters/types.ts";

// What a task handler sees: the host adapters (every touch of the host goes through them, so tests
// swap them), a logger that never receives a task's secret result, the agent's abort signal, and a
// way to report progress lines that the coordinator shows in the operation's step.
export interface TaskContext {
  host: HostAdapters;
  log: Logger;
  signal: AbortSignal;
  /** The agent's state dir (phases keep their progress there). */
  stateDir: string;
  progress(message: string): void;
  /** How often long blocking steps report that they still wait (default 15 s; tests shorten it). */
  progressEveryMs?: number;
}

export type TaskOf<K extends TaskKind> = Extract<Task, { kind: K }>;

/** Carries out one kind of task; throws TaskFailed (or any error) to answer ok:false with its message. */
export type TaskHandler<K extends TaskKind> = (task: TaskOf<K>, ctx: TaskContext) => Promise<TaskResultOf<K>>;

export type TaskHandlers = { [K in TaskKind]?: TaskHandler<K> };

/** An expected failure whose message is safe to show the operator (it never holds a secret). */
export class TaskFailed extends Error {
  override name = "TaskFailed";
}
