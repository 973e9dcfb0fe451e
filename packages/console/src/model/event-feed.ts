import type { EventsPage } from "@muster/shared";
import { type Api, ApiError } from "./api.ts";

// Follows the event log with the coordinator's long-poll (GET /v1/events?waitSeconds=W): each
// request returns as soon as there is something newer than `after`, or empty after W seconds, so
// the page hears of every change at once while idle clusters cost one request per W.

export const PAGE_LIMIT = 1000;
export const WAIT_SECONDS = 25;

export interface FollowOptions {
  api: Pick<Api, "get">;
  /** Seq to start after: 0 reads the whole log first. */
  after: number;
  signal: AbortSignal;
  onPage(page: EventsPage): void;
  /** A failure that is retried (after retryMs); `null` once a request succeeds again. */
  onTrouble(err: ApiError | null): void;
  /** The token was refused: following stops. */
  onUnauthorized(err: ApiError): void;
  waitSeconds?: number;
  retryMs?: number;
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
  });
}

/** Runs until `signal` aborts or the token is refused. Never throws. */
export async function followEvents(opts: FollowOptions): Promise<void> {
  const wait = opts.waitSeconds ?? WAIT_SECONDS;
  let after = opts.after;
  let troubled = false;
  while (!opts.signal.aborted) {
    let page: EventsPage;
    try {
      page = await opts.api.get<EventsPage>(
        `/v1/events?after=${after}&limit=${PAGE_LIMIT}&waitSeconds=${wait}`,
        opts.signal,
      );
    } catch (err) {
      if (opts.signal.aborted) return;
      const e = err instanceof ApiError ? err : new ApiError(0, "NETWORK", (err as Error).message);
      if (e.status === 401) return opts.onUnauthorized(e);
      troubled = true;
      opts.onTrouble(e);
      await pause(opts.retryMs ?? 2000, opts.signal);
      continue;
    }
    if (troubled) {
      troubled = false;
      opts.onTrouble(null);
    }
    after = Math.max(after, page.next);
    if (page.events.length > 0) opts.onPage(page);
  }
}
