import type { Logger } from "@muster/shared";
import type { RegistrationProbe } from "./probe.ts";

// Keeps a recent answer to "does the registration address answer?" so the synchronous planner can
// use it. Polls fast only while a node waits on it, slowly otherwise (for the cluster view), and
// not at all before there is an address worth probing.

export type RegistrationHealth = "unknown" | "healthy" | "unhealthy";

export interface MonitorOptions {
  probe: RegistrationProbe;
  logger: Logger;
  /** Called when the answer changes, so the sequencer can plan again (changes.ts). */
  onChange: () => void;
  fastMs?: number;
  slowMs?: number;
}

export function createRegistrationMonitor(opts: MonitorOptions) {
  const fastMs = opts.fastMs ?? 3000;
  const slowMs = opts.slowMs ?? 30000;
  let address: string | null = null;
  let urgent = false;
  let health: RegistrationHealth = "unknown";
  let timer: NodeJS.Timeout | null = null;
  let dueAt = 0;
  let inFlight: Promise<void> | null = null;
  let stopped = false;

  function arm(delay: number): void {
    if (timer) clearTimeout(timer);
    if (stopped || address === null) return;
    dueAt = Date.now() + delay;
    timer = setTimeout(() => void probeNow().then(() => arm(urgent ? fastMs : slowMs)), delay);
    timer.unref();
  }

  function probeNow(): Promise<void> {
    if (inFlight) return inFlight;
    const target = address;
    if (target === null) return Promise.resolve();
    inFlight = opts
      .probe(target)
      .catch(() => false)
      .then((ok) => {
        inFlight = null;
        if (target !== address) return; // the address changed while probing: the answer is moot
        const next: RegistrationHealth = ok ? "healthy" : "unhealthy";
        if (next === health) return;
        opts.logger.info({ address: target, health: next }, "registration address health changed");
        health = next;
        opts.onChange();
      });
    return inFlight;
  }

  return {
    /** Health of `addr` as last probed; "unknown" for an address not probed yet. */
    health(addr: string | null): RegistrationHealth {
      return addr !== null && addr === address ? health : "unknown";
    },
    /** What to watch, and whether something waits on it right now. */
    watch(addr: string | null, waiting: boolean): void {
      if (stopped) return;
      if (addr !== address) {
        address = addr;
        urgent = waiting;
        health = "unknown";
        arm(0);
        return;
      }
      const wasUrgent = urgent;
      urgent = waiting;
      if (urgent && !wasUrgent && dueAt - Date.now() > fastMs) arm(0);
    },
    /** Probes now and waits for the answer (tests, and `muster status` freshness). */
    refresh: probeNow,
    stop(): void {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}

export type RegistrationMonitor = ReturnType<typeof createRegistrationMonitor>;
