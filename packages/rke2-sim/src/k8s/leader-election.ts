// Leader election on a coordination.k8s.io/v1 Lease, with client-go's rules
// (k8s.io/client-go/tools/leaderelection): candidates retry every retryPeriod (jittered by 1.2); a
// lease held by someone else counts as expired only leaseDuration after this candidate last *saw it
// change* (local observed time, not the renewTime in the record, so clocks need not agree); the leader
// renews every retryPeriod and gives up once renewals have failed for renewDeadline; on a clean stop
// with releaseOnCancel it clears holderIdentity so others take over at their next retry.
// Each write is a compare-and-swap on the Lease's resourceVersion (the etcd key's mod_revision).
import type { KubeObject } from "./store.ts";
import { ApiError, type Store } from "./store.ts";

export interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

export interface Lease extends KubeObject {
  spec: LeaseSpec;
}

export interface ElectionConfig {
  store: Store;
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  releaseOnCancel: boolean;
  onStartedLeading(): void;
  onStoppedLeading(): void;
  onNewLeader?(identity: string): void;
  /** klog-style progress lines ("attempting to acquire leader lease ..."). */
  log?(line: string): void;
  /** Errors talking to the API, e.g. "error retrieving resource lock ...: connection refused". */
  logError?(line: string): void;
}

const microTime = () => new Date().toISOString().replace("Z", "000Z");
const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(t);
      resolve();
    });
  });

export class LeaderElector {
  readonly #c: ElectionConfig;
  readonly #abort = new AbortController();
  #observedRecord = "";
  #observedTime = 0;
  #observedHolder = "";
  #leading = false;
  #done: Promise<void> | null = null;

  constructor(config: ElectionConfig) {
    this.#c = config;
  }

  get isLeader(): boolean {
    return this.#leading;
  }

  get lockName(): string {
    return `${this.#c.namespace}/${this.#c.name}`;
  }

  /** Runs until stop() or until leadership is lost (then resolves; RunOrDie returns the same way). */
  run(): Promise<void> {
    this.#done ??= this.#run();
    return this.#done;
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    await this.#done;
  }

  async #run(): Promise<void> {
    const c = this.#c;
    const signal = this.#abort.signal;
    c.log?.(`attempting to acquire leader lease ${this.lockName}...`);
    while (!signal.aborted) {
      if (await this.#tryAcquireOrRenew()) break;
      await sleep(c.retryPeriodMs + Math.random() * 1.2 * c.retryPeriodMs, signal);
    }
    if (signal.aborted) return;
    c.log?.(`successfully acquired lease ${this.lockName}`);
    this.#leading = true;
    c.onStartedLeading();
    // Renew: each round retries every retryPeriod until it succeeds or renewDeadline passes.
    let lost = false;
    while (!signal.aborted && !lost) {
      const deadline = Date.now() + c.renewDeadlineMs;
      let renewed = false;
      while (!signal.aborted && Date.now() < deadline) {
        if (await this.#tryAcquireOrRenew(deadline)) {
          renewed = true;
          break;
        }
        await sleep(Math.min(c.retryPeriodMs, Math.max(0, deadline - Date.now())), signal);
      }
      if (signal.aborted) break;
      if (!renewed) {
        lost = true;
        c.log?.(`failed to renew lease ${this.lockName}: timed out waiting for the condition`);
        break;
      }
      await sleep(c.retryPeriodMs, signal);
    }
    if (!lost && c.releaseOnCancel) await this.#release();
    this.#leading = false;
    c.onStoppedLeading();
  }

  async #tryAcquireOrRenew(deadline = Number.POSITIVE_INFINITY): Promise<boolean> {
    const c = this.#c;
    const now = Date.now();
    let lease: Lease | null;
    try {
      lease = await c.store.get<Lease>("leases", c.namespace, c.name);
    } catch (err) {
      c.logError?.(`error retrieving resource lock ${this.lockName}: ${(err as Error).message}`);
      return false;
    }
    const spec: LeaseSpec = {
      holderIdentity: c.identity,
      leaseDurationSeconds: Math.round(c.leaseDurationMs / 1000),
      acquireTime: microTime(),
      renewTime: microTime(),
      leaseTransitions: 0,
    };
    if (Date.now() > deadline) return false;
    try {
      if (!lease) {
        await c.store.create<Lease>("leases", {
          apiVersion: "coordination.k8s.io/v1",
          kind: "Lease",
          metadata: { name: c.name, namespace: c.namespace, uid: "", creationTimestamp: "" },
          spec,
        });
        this.#observe(JSON.stringify(spec), spec.holderIdentity ?? "", now);
        return true;
      }
      const old = lease.spec;
      this.#observe(JSON.stringify(old), old.holderIdentity ?? "", now);
      const durationMs = (old.leaseDurationSeconds ?? 0) * 1000;
      const heldByOther = !!old.holderIdentity && old.holderIdentity !== c.identity;
      if (heldByOther && this.#observedTime + durationMs > now) return false;
      if (old.holderIdentity === c.identity) {
        spec.acquireTime = old.acquireTime;
        spec.leaseTransitions = old.leaseTransitions ?? 0;
      } else {
        spec.leaseTransitions = (old.leaseTransitions ?? 0) + 1;
      }
      await c.store.update<Lease>("leases", { ...lease, spec });
      this.#observe(JSON.stringify(spec), c.identity, Date.now());
      return true;
    } catch (err) {
      if (!(err instanceof ApiError)) c.logError?.(`Failed to update lock: ${(err as Error).message}`);
      return false;
    }
  }

  #observe(record: string, holder: string, at: number): void {
    if (record !== this.#observedRecord) {
      this.#observedRecord = record;
      this.#observedTime = at;
    }
    if (holder && holder !== this.#observedHolder) {
      this.#observedHolder = holder;
      this.#c.onNewLeader?.(holder);
    }
  }

  /** client-go's release(): holderIdentity cleared, duration 1 s, so the next candidate need not wait. */
  async #release(): Promise<void> {
    const c = this.#c;
    try {
      const lease = await c.store.get<Lease>("leases", c.namespace, c.name);
      if (!lease || lease.spec.holderIdentity !== c.identity) return;
      await c.store.update<Lease>("leases", {
        ...lease,
        spec: {
          leaseTransitions: lease.spec.leaseTransitions ?? 0,
          leaseDurationSeconds: 1,
          renewTime: microTime(),
          acquireTime: microTime(),
        },
      });
      c.log?.(`successfully released lease ${this.lockName}`);
    } catch (err) {
      c.logError?.(`Failed to release lock: ${(err as Error).message}`);
    }
  }
}
