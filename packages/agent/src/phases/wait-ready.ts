import { probeAgent, probeServer } from "./readiness.ts";
import { type Trust, TrustMismatch } from "./trust.ts";
import { type Phase, PhaseError, sleep } from "./types.ts";

// wait-ready: poll the readiness gate until it passes or the plan's timeout runs out. A CA that does
// not match the token is not a "not yet": it fails at once.
export const waitReadyPhase: Phase = {
  name: "wait-ready",
  alwaysRun: true,
  onReapply: true,
  async run(ctx) {
    const deadline = Date.now() + ctx.plan.readiness.timeoutSeconds * 1000;
    const cache: { trust?: Trust } = {};
    const probe = ctx.plan.role === "server" ? probeServer : probeAgent;
    let reason: string | null = "not probed";
    for (;;) {
      try {
        reason = await probe(ctx.host, ctx.plan, cache);
      } catch (err) {
        if (err instanceof TrustMismatch || err instanceof PhaseError) throw err;
        reason = err instanceof Error ? err.message : String(err);
      }
      if (reason === null) break;
      if (Date.now() + ctx.pollMs > deadline)
        throw new PhaseError(`not ready after ${ctx.plan.readiness.timeoutSeconds}s: ${reason}`);
      await sleep(ctx.pollMs, ctx.signal);
    }
    const what =
      ctx.plan.role === "server"
        ? "service active, :9345/ping pong, :6443/readyz ok, etcd voter"
        : "service active, kubelet healthy, registration address answers on 9345 and 6443";
    return `ready (${what})${cache.trust?.note ? `; ${cache.trust.note}` : ""}`;
  },
};
