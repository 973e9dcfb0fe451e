import type { NodePlan } from "@muster/shared";

// Plans run one at a time. A plan that arrives while another runs waits; if several arrive, only the
// newest waits (an older pending plan is superseded). The running plan is never re-queued.
export class PlanQueue {
  private current: NodePlan | undefined;
  private pending: NodePlan | undefined;
  private draining: Promise<void> | undefined;
  private stopped = false;
  private readonly run: (plan: NodePlan) => Promise<void>;

  constructor(run: (plan: NodePlan) => Promise<void>) {
    this.run = run;
  }

  /** Returns what happened to the plan, for logging. */
  submit(plan: NodePlan): "started" | "queued" | "duplicate" | "stopped" {
    if (this.stopped) return "stopped";
    if (this.current?.checksum === plan.checksum && this.pending === undefined) return "duplicate";
    if (this.pending?.checksum === plan.checksum) return "duplicate";
    this.pending = plan;
    if (this.draining) return "queued";
    this.draining = this.drain();
    return "started";
  }

  get running(): NodePlan | undefined {
    return this.current;
  }

  private async drain(): Promise<void> {
    while (this.pending && !this.stopped) {
      this.current = this.pending;
      this.pending = undefined;
      try {
        await this.run(this.current);
      } finally {
        this.current = undefined;
      }
    }
    this.draining = undefined;
  }

  /** Stops taking plans; resolves once the running plan (if any) has returned. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.pending = undefined;
    await this.draining;
  }

  idle(): Promise<void> {
    return this.draining ?? Promise.resolve();
  }
}
