import { type Phase, PhaseAborted, PhaseError, sleep } from "./types.ts";

// start: `systemctl enable --now <unit>`. RKE2 units are Type=notify, so this returns only once the
// node is up (for a joining server: after etcd promoted it); the plan's readiness timeout bounds it.
// rke2-server and rke2-agent refuse to run together: catch that here with a clear message.
//
// A joining server's first start can fail for reasons that pass on their own: etcd refuses a member
// add within seconds of a leader start or promotion ("etcdserver: unhealthy cluster"), and older RKE2
// releases exit instead of retrying. The units say Restart=always for exactly this, so a failed start
// is retried a few times before the join is declared failed; a fault that persists still fails fast.
// Between attempts it waits one readiness poll interval.
export const START_ATTEMPTS = 5;
function otherUnit(service: string): string {
  return service === "rke2-server" ? "rke2-agent" : "rke2-server";
}

export const startPhase: Phase = {
  name: "start",
  async skipIf(ctx) {
    const { service } = ctx.plan;
    const [active, enabled] = await Promise.all([
      ctx.host.systemd.isActive(service),
      ctx.host.systemd.isEnabled(service),
    ]);
    return active && enabled && !ctx.scratch.configChanged
      ? `${service} is already enabled and active`
      : null;
  },
  async run(ctx) {
    const { systemd } = ctx.host;
    const { service } = ctx.plan;
    const other = otherUnit(service);
    if (await systemd.isActive(other))
      throw new PhaseError(
        `${other} is active on this node and RKE2 will not start ${service} alongside it; ` +
          `stop it (systemctl disable --now ${other}) or run rke2-uninstall.sh, then retry`,
      );
    const timeoutMs = ctx.plan.readiness.timeoutSeconds * 1000;
    const deadline = Date.now() + timeoutMs;
    const restart = ctx.scratch.configChanged === true && (await systemd.isActive(service));
    for (let attempt = 1; ; attempt++) {
      const left = Math.max(1000, deadline - Date.now());
      const r =
        restart && attempt === 1
          ? await systemd.restart(service, { timeoutMs: left, signal: ctx.signal })
          : await systemd.enableNow(service, { timeoutMs: left, signal: ctx.signal });
      if (ctx.signal.aborted) throw new PhaseAborted();
      if (r.timedOut)
        throw new PhaseError(
          `${service} did not report ready within ${ctx.plan.readiness.timeoutSeconds}s; see journalctl -u ${service}`,
        );
      if (r.exitCode === 0) break;
      const detail = r.stderr.trim().split("\n").slice(-3).join(" | ");
      const what = `systemctl ${restart && attempt === 1 ? "restart" : "enable --now"} ${service} failed (exit ${r.exitCode}): ${detail}`;
      if (attempt >= START_ATTEMPTS || Date.now() + ctx.pollMs >= deadline)
        throw new PhaseError(`${what}; gave up after ${attempt} attempts; see journalctl -u ${service}`);
      ctx.log.warn(
        { service, attempt, of: START_ATTEMPTS },
        `${what}; retrying (the unit has Restart=always)`,
      );
      await sleep(ctx.pollMs, ctx.signal);
    }
    if (restart && !(await systemd.isEnabled(service))) await systemd.enableNow(service, { timeoutMs });
    return restart ? `${service} restarted with the new config` : `${service} enabled and started`;
  },
};
