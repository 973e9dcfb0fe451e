import { type Phase, PhaseAborted, PhaseError } from "./types.ts";

// start: `systemctl enable --now <unit>`. RKE2 units are Type=notify, so this returns only once the
// node is up (for a joining server: after etcd promoted it); the plan's readiness timeout bounds it.
// rke2-server and rke2-agent refuse to run together: catch that here with a clear message.
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
    const restart = ctx.scratch.configChanged === true && (await systemd.isActive(service));
    const r = restart
      ? await systemd.restart(service, { timeoutMs, signal: ctx.signal })
      : await systemd.enableNow(service, { timeoutMs, signal: ctx.signal });
    if (ctx.signal.aborted) throw new PhaseAborted();
    if (r.timedOut)
      throw new PhaseError(
        `${service} did not report ready within ${ctx.plan.readiness.timeoutSeconds}s; see journalctl -u ${service}`,
      );
    if (r.exitCode !== 0) {
      const detail = r.stderr.trim().split("\n").slice(-3).join(" | ");
      throw new PhaseError(
        `systemctl ${restart ? "restart" : "enable --now"} ${service} failed (exit ${r.exitCode}): ${detail}; see journalctl -u ${service}`,
      );
    }
    if (restart && !(await systemd.isEnabled(service))) await systemd.enableNow(service, { timeoutMs });
    return restart ? `${service} restarted with the new config` : `${service} enabled and started`;
  },
};
