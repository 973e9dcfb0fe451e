import type { TaskHandlers } from "../types.ts";

// Every task kind this agent can run, by kind. A kind missing here is answered "this agent cannot
// run <kind> tasks", so an older agent fails a newer coordinator's task clearly instead of hanging.
export const TASK_HANDLERS: TaskHandlers = {};
