// A controller that runs on one server at a time: every server campaigns for the Lease, the holder
// runs `tick` every periodMs. Timings follow kube-controller-manager's defaults scaled from the lease
// duration (15 s lease, 10 s renew deadline, 2 s retry; never retrying more often than every second). A holder that loses the lease stops and
// campaigns again (the real controller-manager exits and is restarted; the effect is the same).
import { LeaderElector } from "./leader-election.ts";
import type { Store } from "./store.ts";

export interface ElectedLoop {
  stop(): Promise<void>;
  readonly leading: boolean;
}

export function startElectedLoop(o: {
  store: Store;
  lease: string;
  identity: string;
  leaseSeconds: number;
  periodMs: number;
  tick(): Promise<void>;
  log(msg: string): void;
}): ElectedLoop {
  let elector: LeaderElector | null = null;
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;
  let busy = false;
  const leaseMs = o.leaseSeconds * 1000;

  const run = async () => {
    while (!stopped) {
      elector = new LeaderElector({
        store: o.store,
        namespace: "kube-system",
        name: o.lease,
        identity: o.identity,
        leaseDurationMs: leaseMs,
        renewDeadlineMs: (leaseMs * 2) / 3,
        retryPeriodMs: Math.max(1000, leaseMs / 7.5),
        releaseOnCancel: true,
        onStartedLeading: () => {
          o.log(`${o.lease}: this server now leads`);
          timer = setInterval(() => {
            if (busy) return;
            busy = true;
            o.tick()
              .catch((err: Error) => o.log(`${o.lease}: ${err.message}`))
              .finally(() => {
                busy = false;
              });
          }, o.periodMs);
        },
        onStoppedLeading: () => {
          if (timer) clearInterval(timer);
          timer = null;
        },
      });
      await elector.run();
    }
  };
  void run();
  return {
    get leading() {
      return elector?.isLeader ?? false;
    },
    async stop() {
      stopped = true;
      await elector?.stop();
    },
  };
}
