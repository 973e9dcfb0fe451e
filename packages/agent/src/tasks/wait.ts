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
