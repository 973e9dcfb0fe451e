import { TaskFailed } from "./types.ts";

// Polls a condition with a deadline (never a bare sleep), ending early when the agent stops.
export async function pollUntil(
  signal: AbortSignal,
  timeoutMs: number,
  condition: () => Promise<boolean>,
  everyMs = 200,
): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (signal.aborted) throw new TaskFailed("aborted: the agent is stopping");
    if (await condition()) return true;
    if (performance.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** Waits before a retry, ending early (TaskFailed) when the agent stops. */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new TaskFailed("aborted: the agent is stopping"));
    const onAbort = () => {
      clearTimeout(timer);
      reject(new TaskFailed("aborted: the agent is stopping"));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
