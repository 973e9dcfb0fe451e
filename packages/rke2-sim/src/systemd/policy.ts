// How a service is run and when it is restarted, as systemd.exec(5) and systemd.service(5) say.
import { existsSync, readFileSync } from "node:fs";
import { parseEnvFile } from "./exec-line.ts";
import type { Result } from "./state.ts";
import type { Unit } from "./unit.ts";

const SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** Signals systemd counts as a clean exit of the main process (SuccessExitStatus defaults). */
export const CLEAN_SIGNALS = new Set(["SIGHUP", "SIGINT", "SIGTERM", "SIGPIPE"]);

/** systemd's clean service environment plus Environment= and EnvironmentFile= (files win). */
export function serviceEnv(unit: Unit, invocationId: string, notifySocket: string): Record<string, string> {
  const env: Record<string, string> = { PATH: SYSTEM_PATH, INVOCATION_ID: invocationId };
  // Nested systemctl calls (ExecCondition, rke2-killall.sh) must see the same simulated manager.
  for (const k of ["SYSTEMCTL_SIM_STATE_DIR", "SYSTEMCTL_SIM_UNIT_PATH", "SYSTEMCTL_SIM_DIR"]) {
    const v = process.env[k];
    if (v) env[k] = v;
  }
  for (const [k, v] of unit.environment) env[k] = v;
  for (const file of unit.environmentFiles) {
    if (!existsSync(file.path)) {
      if (file.optional) continue;
      throw new Error(`Failed to load environment files: ${file.path}: No such file or directory`);
    }
    for (const [k, v] of parseEnvFile(readFileSync(file.path, "utf8"))) env[k] = v;
  }
  if (unit.type === "notify") env["NOTIFY_SOCKET"] = notifySocket;
  return env;
}

export function wantsRestart(unit: Unit, clean: boolean, result: Result): boolean {
  switch (unit.restart) {
    case "always":
      return true;
    case "on-failure":
      return !clean;
    case "on-success":
      return clean;
    case "on-abnormal":
      return result === "signal" || result === "timeout";
    case "on-abort":
      return result === "signal";
    default:
      return false;
  }
}
