import type { Exec, Systemd } from "./types.ts";

// systemctl through the exec adapter. is-active / is-enabled answer by exit code (0 = yes).
export function createSystemd(exec: Exec, systemctl = "systemctl"): Systemd {
  return {
    async isActive(unit) {
      return (
        (await exec.run(systemctl, ["is-active", "--quiet", unit], { timeoutMs: 10_000 })).exitCode === 0
      );
    },
    async isEnabled(unit) {
      return (
        (await exec.run(systemctl, ["is-enabled", "--quiet", unit], { timeoutMs: 10_000 })).exitCode === 0
      );
    },
    // RKE2 units are Type=notify: `enable --now` returns only when the unit reported READY=1 or failed.
    enableNow: (unit, opts) => exec.run(systemctl, ["enable", "--now", unit], opts),
    restart: (unit, opts) => exec.run(systemctl, ["restart", unit], opts),
    start: (unit, opts) => exec.run(systemctl, ["start", unit], opts),
    stop: (unit) => exec.run(systemctl, ["stop", unit], { timeoutMs: 120_000 }),
  };
}
