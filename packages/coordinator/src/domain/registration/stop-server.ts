import type { ClusterSpec, VipSettings } from "@muster/shared";
import type { TaskDispatcher } from "../tasks/dispatcher.ts";
import { judgeVip, type VipObservation, type VipVerdict } from "./vip-verdict.ts";

// Stopping rke2-server on a server, the one way muster does it anywhere (retries, removal, upgrade):
// `systemctl stop`, then (the agent) `crictl stop` of kube-vip so it releases its Lease, then
// rke2-killall.sh (a plain stop leaves kube-vip running and holding the VIP, kube-vip#1786), then, with a VIP, delete the address SIGKILLed kube-vip left on the interface, and
// verify from the other servers that the VIP moved: exactly one machine answers ARP for it and it is
// not the stopped one. If it did not move in time, VipDidNotMove says so and the caller (an
// operation step) stops there. docs/architecture.md#stopping-a-server-and-the-vip

export interface StopServerDeps {
  tasks: Pick<TaskDispatcher, "run">;
  spec(): ClusterSpec;
  /** Servers to observe the VIP from (connected ones), the stopped node excluded by the caller or not. */
  observers(): string[];
  /** Which node a MAC belongs to (facts), for messages. */
  nameOfMac?: (mac: string) => string | null;
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export interface StopServerOptions {
  /** Stable task ids (an operation step's ctx.taskId), so a re-run step joins the same tasks. */
  taskId?: (suffix: string) => string;
  signal?: AbortSignal;
  progress?: (message: string) => void;
  /** How long the VIP may take to move; default 3 x lease duration + 15 s. */
  moveTimeoutMs?: number;
  /** Time between observations while waiting; default 1000 ms. */
  pollMs?: number;
  taskTimeoutMs?: number;
}

export interface VipMove {
  from: string;
  to: string | null;
  /** From the stop's end to the first verdict that showed the VIP elsewhere. */
  seconds: number;
  verdict: VipVerdict;
}

export interface StopServerOutcome {
  node: string;
  killed: boolean;
  /** Whether the stale VIP had to be deleted from the stopped node. */
  releasedStaleVip: boolean;
  /** Null when the cluster has no VIP muster runs. */
  vip: VipMove | null;
}

/** The VIP did not move off a stopped server in time: the operation must stop here. */
export class VipDidNotMove extends Error {
  override name = "VipDidNotMove";
}

/** The VIP muster runs, if it is the registration address. */
function clusterVip(spec: ClusterSpec): VipSettings | null {
  if (!spec.vip) return null;
  if (spec.registrationAddress && spec.registrationAddress !== spec.vip.address) return null;
  return spec.vip;
}

export async function stopServerSafely(
  deps: StopServerDeps,
  node: string,
  opts: StopServerOptions = {},
): Promise<StopServerOutcome> {
  const id = (suffix: string) => (opts.taskId ? { id: opts.taskId(suffix) } : {});
  const timeoutMs = opts.taskTimeoutMs ?? 10 * 60_000;
  const signal = opts.signal ? { signal: opts.signal } : {};
  opts.progress?.(
    `stopping rke2-server on ${node} (systemctl stop, crictl stop kube-vip, then rke2-killall.sh)`,
  );
  const stop = await deps.tasks.run(
    node,
    { kind: "rke2.stop", unit: "rke2-server", killall: true },
    { timeoutMs, ...id("stop"), ...signal },
  );
  const vip = clusterVip(deps.spec());
  if (!vip) return { node, killed: stop.killed, releasedStaleVip: false, vip: null };

  // SIGKILLed kube-vip leaves the address behind: both machines would answer ARP for it.
  const release = await deps.tasks.run(
    node,
    { kind: "vip.release", address: vip.address, interface: vip.interface },
    { timeoutMs: 60_000, ...id("vip-release"), ...signal },
  );
  if (release.removed) opts.progress?.(`deleted the stale VIP ${vip.address} left on ${node}`);
  const moved = await verifyVipMoved(deps, node, vip, opts);
  return { node, killed: stop.killed, releasedStaleVip: release.removed, vip: moved };
}

/**
 * Waits until peers see exactly one machine answer ARP for the VIP and that machine is not `from`
 * (nor does `from` still have the address). Throws VipDidNotMove with what was last seen.
 */
export async function verifyVipMoved(
  deps: StopServerDeps,
  from: string,
  vip: VipSettings,
  opts: StopServerOptions = {},
): Promise<VipMove> {
  const k = vip.kubeVip;
  const timeout = opts.moveTimeoutMs ?? (3 * k.leaseDurationSeconds + 15) * 1000;
  const start = deps.now();
  const deadline = start + timeout;
  let last: VipVerdict | null = null;
  let round = 0;
  for (;;) {
    round++;
    const observers = [...new Set([...deps.observers().filter((n) => n !== from), from])];
    const observations = await Promise.all(
      observers.map(async (node): Promise<VipObservation> => {
        try {
          const result = await deps.tasks.run(
            node,
            { kind: "vip.observe", address: vip.address, interface: vip.interface },
            { timeoutMs: opts.taskTimeoutMs ?? 15_000, ...(opts.signal ? { signal: opts.signal } : {}) },
          );
          return { node, ok: true, result };
        } catch (err) {
          return { node, ok: false, error: (err as Error).message };
        }
      }),
    );
    const fromObs = observations.find((o) => o.node === from);
    const fromMac = fromObs?.ok ? fromObs.result.localMac : null;
    const fromStillHolds = fromObs?.ok === true && fromObs.result.local;
    // The stopped node is no peer now: judge from the others, plus its own "do I have it?".
    const verdict = judgeVip(
      vip.address,
      observations.filter((o) => o.node !== from || (o.ok && o.result.local)),
      deps.nameOfMac,
    );
    last = verdict;
    const movedAway =
      verdict.state === "one" &&
      !fromStillHolds &&
      (fromMac === null || verdict.mac !== fromMac.toLowerCase());
    if (movedAway) {
      opts.progress?.(`VIP ${vip.address} moved from ${from} to ${verdict.holder ?? verdict.mac}`);
      return {
        from,
        to: verdict.holder,
        seconds: (deps.now() - start) / 1000,
        verdict,
      };
    }
    if (round === 1 || round % 5 === 0)
      opts.progress?.(`waiting for VIP ${vip.address} to move off ${from}: ${verdict.detail}`);
    if (deps.now() >= deadline) break;
    await deps.sleep(opts.pollMs ?? 1000, opts.signal);
  }
  throw new VipDidNotMove(
    `the VIP ${vip.address} did not move off ${from} within ${Math.round(timeout / 1000)} s: ${last?.detail ?? "not observed"}; the operation stops here (check kube-vip on the other servers: kubectl -n kube-system get pods -l app.kubernetes.io/name=kube-vip-ds)`,
  );
}
