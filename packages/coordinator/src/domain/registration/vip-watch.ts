import type { Logger } from "@muster/shared";
import type { TaskDispatcher } from "../tasks/dispatcher.ts";
import { judgeVip, sameVerdict, type VipObservation, type VipVerdict } from "./vip-verdict.ts";

// Keeps a recent answer to "does exactly one machine answer ARP for the VIP, as peers see it?" so
// the synchronous planner can gate joiners on it (docs/architecture.md#the-registration-address-kube-vip).
// Like the registration monitor: polls fast while a joiner waits on the VIP, slowly otherwise, not at
// all while there is nothing to watch. Each round asks a few connected servers (agents when no other
// server is connected) to run vip.observe through the task dispatcher, and judges their answers.

export interface VipTarget {
  address: string;
  interface: string;
  /** Nodes to observe from, best first (connected servers, then agents). */
  observers: readonly string[];
}

export interface VipWatchOptions {
  tasks: Pick<TaskDispatcher, "run">;
  logger: Logger;
  onChange: () => void;
  /** Which node a MAC belongs to (from facts). */
  nameOfMac?: (mac: string) => string | null;
  fastMs?: number;
  slowMs?: number;
  /** Observers asked per round. */
  maxObservers?: number;
  taskTimeoutMs?: number;
}

const UNKNOWN: VipVerdict = { state: "unknown", detail: "the VIP was not observed yet" };

export function createVipWatch(opts: VipWatchOptions) {
  const fastMs = opts.fastMs ?? 2000;
  const slowMs = opts.slowMs ?? 15000;
  const maxObservers = opts.maxObservers ?? 3;
  let target: VipTarget | null = null;
  let urgent = false;
  let verdict: VipVerdict = UNKNOWN;
  let timer: NodeJS.Timeout | null = null;
  let inFlight: Promise<VipVerdict> | null = null;
  let stopped = false;

  const key = (t: VipTarget | null) => (t ? `${t.address}%${t.interface}` : "");

  function arm(delay: number): void {
    if (timer) clearTimeout(timer);
    timer = null;
    if (stopped || target === null) return;
    timer = setTimeout(() => void observeNow().then(() => arm(urgent ? fastMs : slowMs)), delay);
    timer.unref();
  }

  async function observeOnce(t: VipTarget): Promise<VipVerdict> {
    const observers = t.observers.slice(0, maxObservers);
    const observations = await Promise.all(
      observers.map(async (node): Promise<VipObservation> => {
        try {
          const result = await opts.tasks.run(
            node,
            { kind: "vip.observe", address: t.address, interface: t.interface },
            { timeoutMs: opts.taskTimeoutMs ?? 15_000 },
          );
          return { node, ok: true, result };
        } catch (err) {
          return { node, ok: false, error: (err as Error).message };
        }
      }),
    );
    return judgeVip(t.address, observations, opts.nameOfMac);
  }

  function observeNow(): Promise<VipVerdict> {
    if (inFlight) return inFlight;
    const t = target;
    if (t === null) return Promise.resolve(verdict);
    inFlight = observeOnce(t)
      .catch((err): VipVerdict => ({ state: "unknown", detail: `observing the VIP failed: ${err}` }))
      .then((next) => {
        inFlight = null;
        if (key(target) !== key(t)) return verdict; // the target changed meanwhile: moot
        if (!sameVerdict(next, verdict)) {
          opts.logger.info({ address: t.address, vip: next.state }, next.detail);
          verdict = next;
          opts.onChange();
        }
        return verdict;
      });
    return inFlight;
  }

  return {
    /** The last verdict for `address`; unknown for an address not watched. */
    verdict(address: string | null): VipVerdict {
      return address !== null && target?.address === address ? verdict : UNKNOWN;
    },
    /** What to watch (null: nothing), and whether a joiner waits on it right now. */
    watch(next: VipTarget | null, waiting: boolean): void {
      if (stopped) return;
      const changed = key(next) !== key(target);
      const hadNoObservers = (target?.observers.length ?? 0) === 0;
      target = next;
      if (changed) {
        verdict = UNKNOWN;
        urgent = waiting;
        arm(0);
        return;
      }
      const wasUrgent = urgent;
      urgent = waiting;
      if ((urgent && !wasUrgent) || (hadNoObservers && (next?.observers.length ?? 0) > 0)) arm(0);
    },
    /** Observes now and waits for the verdict (tests; after a stop that should move the VIP). */
    refresh: observeNow,
    stop(): void {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}

export type VipWatch = ReturnType<typeof createVipWatch>;
