import type { HostAdapters } from "@muster/agent/adapters/types";
import type { TaskContext } from "@muster/agent/tasks/types";
import { type FakeHostOptions, fakeHost, memoryLogger } from "./fakes.ts";

/** A task context over fake host adapters (files rooted at `root`), keeping progress and log lines. */
export function taskContext(
  root: string,
  o: FakeHostOptions & { host?: Partial<HostAdapters>; progressEveryMs?: number } = {},
) {
  const { log, lines } = memoryLogger();
  const progress: string[] = [];
  const abort = new AbortController();
  const ctx: TaskContext = {
    host: { ...fakeHost(root, o), ...o.host },
    log,
    signal: abort.signal,
    stateDir: "/var/lib/muster/agent",
    progress: (m) => progress.push(m),
    ...(o.progressEveryMs !== undefined ? { progressEveryMs: o.progressEveryMs } : {}),
  };
  return { ctx, progress, logLines: lines, abort };
}
