// Reconnect delays: exponential with full jitter (AWS architecture blog style), capped, so a fleet
// of agents does not reconnect in lockstep after a coordinator restart.
export interface BackoffOptions {
  baseMs: number;
  capMs: number;
  /** After an auth refusal (4401/4403) or a pin mismatch: retrying fast cannot help. */
  refusedMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 500, capMs: 30_000, refusedMs: 5 * 60_000 };

export function backoffDelay(
  attempt: number,
  opts: BackoffOptions,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(opts.capMs, opts.baseMs * 2 ** Math.min(attempt, 30));
  // Never below half the ceiling, so a quick retry storm is impossible even with unlucky draws.
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

export function refusedDelay(opts: BackoffOptions, random: () => number = Math.random): number {
  return Math.round(opts.refusedMs * (0.8 + random() * 0.4));
}
