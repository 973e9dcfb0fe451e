import type { ClusterView, MusterEvent, NodeView, PlanStep, PlanView } from "@muster/shared";
import { useEffect, useMemo, useState } from "preact/hooks";
import { type Api, ApiError, isUnauthorized } from "../model/api.ts";
import { followEvents } from "../model/event-feed.ts";
import { mergeEvents } from "../model/events.ts";
import { isJoinEvent } from "../model/timeline.ts";
import type { WhatIfView } from "../model/whatif.ts";

// Everything the dashboard shows, kept live: the event long-poll runs all the time, and each batch
// of events triggers one re-read of /v1/cluster, /v1/nodes and /v1/plan (and /v1/whatif where the
// coordinator has it), coalesced. No timer polls the coordinator.

export interface ConsoleData {
  cluster: ClusterView | null;
  nodes: NodeView[];
  steps: PlanStep[];
  /** undefined: not asked yet; null: this coordinator has no /v1/whatif. */
  whatif: WhatIfView | null | undefined;
  /** Newest first, capped. */
  events: MusterEvent[];
  /** Every join event since the log began (the timeline). */
  joinEvents: MusterEvent[];
  /** Connection trouble shown in the banner; null when all is well. */
  trouble: string | null;
}

const INITIAL: ConsoleData = {
  cluster: null,
  nodes: [],
  steps: [],
  whatif: undefined,
  events: [],
  joinEvents: [],
  trouble: null,
};

export const REFRESH_DELAY_MS = 150;

export function useConsoleData(api: Api, onUnauthorized: (err: ApiError) => void) {
  const [data, setData] = useState<ConsoleData>(INITIAL);

  const control = useMemo(() => {
    const abort = new AbortController();
    let whatifAbsent = false;
    let running = false;
    let again = false;
    let timer: ReturnType<typeof setTimeout> | null = null;

    async function refresh(): Promise<void> {
      if (running) {
        again = true;
        return;
      }
      running = true;
      try {
        const [cluster, nodes, plan, whatif] = await Promise.all([
          api.get<ClusterView>("/v1/cluster", abort.signal),
          api.get<{ nodes: NodeView[] }>("/v1/nodes", abort.signal),
          api.get<PlanView>("/v1/plan", abort.signal),
          whatifAbsent ? Promise.resolve(null) : api.getIfPresent<WhatIfView>("/v1/whatif", abort.signal),
        ]);
        if (whatif === null) whatifAbsent = true;
        setData((d) => ({ ...d, cluster, nodes: nodes.nodes, steps: plan.steps, whatif, trouble: null }));
      } catch (err) {
        if (abort.signal.aborted) return;
        if (isUnauthorized(err)) return onUnauthorized(err as ApiError);
        setData((d) => ({ ...d, trouble: `Could not read the cluster: ${(err as Error).message}` }));
      } finally {
        running = false;
        if (again && !abort.signal.aborted) {
          again = false;
          schedule();
        }
      }
    }

    /** One refresh soon for any number of calls until then. */
    function schedule(): void {
      if (timer !== null) return;
      timer = setTimeout(() => {
        timer = null;
        void refresh();
      }, REFRESH_DELAY_MS);
    }

    function start(): void {
      void refresh();
      void followEvents({
        api,
        after: 0,
        signal: abort.signal,
        onPage(page) {
          const joins = page.events.filter(isJoinEvent);
          setData((d) => ({
            ...d,
            events: mergeEvents(d.events, page.events),
            joinEvents: joins.length > 0 ? [...d.joinEvents, ...joins] : d.joinEvents,
          }));
          schedule();
        },
        onTrouble(err) {
          setData((d) => ({
            ...d,
            // Unreachable: the words already say what to check; otherwise the coordinator's own.
            trouble: err
              ? err.status === 0
                ? `${err.message} Retrying…`
                : `Lost contact with the coordinator (${err.message}); retrying…`
              : null,
          }));
          if (err === null) schedule();
        },
        onUnauthorized,
      });
    }

    function stop(): void {
      abort.abort();
      if (timer !== null) clearTimeout(timer);
    }
    return { start, stop, refresh: schedule };
  }, [api, onUnauthorized]);

  useEffect(() => {
    control.start();
    return control.stop;
  }, [control]);

  return { data, refresh: control.refresh };
}

export { ApiError };
