// When planning passes run (sequencer.ts). A change asks for a pass; any number of asks before it
// runs cause one pass. After a quiet spell the pass runs on the next turn of the event loop, so a lone
// change is planned at once; right after another pass it waits until max(minIntervalMs, COST_FACTOR x
// that pass's duration) has gone by, so a burst of frames from thousands of agents causes a bounded
// number of passes, and planning (O(nodes) per pass) takes at most about a fifth of the CPU.

/** A pass waits at least this many times as long as the previous pass took, capped at MAX_GAP_MS. */
const COST_FACTOR = 4;
const MAX_GAP_MS = 250;

export function createPassPacer(run: () => void, minIntervalMs: number) {
  let pending:
    | { kind: "immediate"; handle: NodeJS.Immediate }
    | { kind: "timer"; handle: NodeJS.Timeout }
    | null = null;
  let nextPassAt = 0;
  let stopped = false;

  const fire = () => {
    pending = null;
    if (!stopped) run();
  };

  function cancel(): void {
    if (pending?.kind === "immediate") clearImmediate(pending.handle);
    else if (pending?.kind === "timer") clearTimeout(pending.handle);
    pending = null;
  }

  return {
    /**
     * Asks for a pass. `soon`: on the next turn whatever the spacing (the rest of a pass cut short),
     * still after the I/O already waiting, so frames are not held up by a long backlog.
     */
    request(soon = false): void {
      if (stopped) return;
      if (pending && (pending.kind === "immediate" || !soon)) return;
      cancel();
      const wait = soon ? 0 : nextPassAt - performance.now();
      pending =
        wait <= 0
          ? { kind: "immediate", handle: setImmediate(fire) }
          : { kind: "timer", handle: setTimeout(fire, wait) };
    },
    /** A pass (scheduled or not) just ended after `ms`: the next scheduled one keeps its distance. */
    passed(ms: number): void {
      nextPassAt = performance.now() + Math.min(MAX_GAP_MS, Math.max(minIntervalMs, COST_FACTOR * ms));
    },
    stop(): void {
      stopped = true;
      cancel();
    },
  };
}
