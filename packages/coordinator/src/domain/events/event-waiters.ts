// Long-polling of the event log (GET /v1/events?waitSeconds=W): a request with nothing newer than
// its `after` parks here until the events repo reports an append past it, its time runs out, its
// client goes away (signal), or the coordinator shuts down. One timer per waiter; no polling.

export type WaitOutcome = "event" | "timeout" | "aborted" | "closed";

interface Waiter {
  after: number;
  settle(outcome: WaitOutcome): void;
}

export interface EventWaiters {
  /** Resolves at once when an event newer than `after` exists, else on the first of the four ends. */
  wait(after: number, ms: number, signal?: AbortSignal): Promise<WaitOutcome>;
  /** The events repo appended (and committed) event `seq`. */
  notify(seq: number): void;
  /** How many requests are parked (tests, metrics). */
  size(): number;
  /** Ends every wait ("closed") and makes later ones return at once. */
  close(): void;
}

/** `latest`: the newest seq when the coordinator starts; later ones arrive through notify. */
export function createEventWaiters(latest: number): EventWaiters {
  const waiters = new Set<Waiter>();
  let newest = latest;
  let closed = false;

  return {
    wait(after, ms, signal) {
      if (newest > after) return Promise.resolve("event");
      if (closed) return Promise.resolve("closed");
      if (signal?.aborted) return Promise.resolve("aborted");
      return new Promise<WaitOutcome>((resolve) => {
        const onAbort = () => waiter.settle("aborted");
        const timer = setTimeout(() => waiter.settle("timeout"), ms);
        const waiter: Waiter = {
          after,
          settle(outcome) {
            if (!waiters.delete(waiter)) return;
            clearTimeout(timer);
            signal?.removeEventListener("abort", onAbort);
            resolve(outcome);
          },
        };
        waiters.add(waiter);
        signal?.addEventListener("abort", onAbort, { once: true });
      });
    },
    notify(seq) {
      if (seq > newest) newest = seq;
      for (const w of [...waiters]) if (seq > w.after) w.settle("event");
    },
    size: () => waiters.size,
    close() {
      closed = true;
      for (const w of [...waiters]) w.settle("closed");
    },
  };
}
