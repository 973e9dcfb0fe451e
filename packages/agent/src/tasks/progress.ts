import type { TaskContext } from "./types.ts";

// Long blocking steps (a Type=notify start, the installer, a drain) say every so often that they are
// still at it, so the operator watching the operation sees a live step rather than silence.
export const PROGRESS_EVERY_MS = 15_000;

export async function reportWhile<T>(
  ctx: Pick<TaskContext, "progress" | "progressEveryMs">,
  work: Promise<T>,
  say: (seconds: number) => string,
): Promise<T> {
  const started = performance.now();
  const timer = setInterval(
    () => ctx.progress(say(Math.round((performance.now() - started) / 1000))),
    ctx.progressEveryMs ?? PROGRESS_EVERY_MS,
  );
  try {
    return await work;
  } finally {
    clearInterval(timer);
  }
}
