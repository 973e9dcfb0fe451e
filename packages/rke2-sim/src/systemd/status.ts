// `systemctl status` and `systemctl show` output, shaped like systemd 252's.
import { existsSync, readFileSync } from "node:fs";
import { unitFileState } from "./enablement.ts";
import type { Loaded } from "./loader.ts";
import { effectiveState, mainAlive, paths, type UnitState } from "./state.ts";

function timestamp(ms: number | null): string {
  if (!ms) return "";
  const d = new Date(ms);
  const day = d.toLocaleDateString("en-US", { weekday: "short", timeZone: "UTC" });
  return `${day} ${d.toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

function ago(ms: number): string {
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  return s < 60 ? `${s}s ago` : `${Math.floor(s / 60)}min ${s % 60}s ago`;
}

function comm(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  } catch {
    return "?";
  }
}

export function activeLine(s: UnitState | null): string {
  if (!s) return "inactive (dead)";
  const result = s.activeState === "failed" || s.subState === "auto-restart" ? ` (Result: ${s.result})` : "";
  return `${s.activeState} (${s.subState})${result} since ${timestamp(s.stateChangeTimestamp)}; ${ago(s.stateChangeTimestamp)}`;
}

export function statusText(name: string, loaded: Loaded | null, raw: UnitState | null, lines = 10): string {
  const s = effectiveState(raw);
  const bullet = s?.activeState === "active" ? "●" : s?.activeState === "failed" ? "×" : "○";
  const out: string[] = [];
  if (loaded) {
    const u = loaded.unit;
    out.push(`${bullet} ${name} - ${u.description}`);
    out.push(`     Loaded: loaded (${u.fragmentPath}; ${unitFileState(u)}; preset: enabled)`);
    if (loaded.changedOnDisk)
      out.push("    Warning: The unit file changed on disk. Run 'systemctl daemon-reload'.");
  } else {
    out.push(`${bullet} ${name}`, `     Loaded: not-found (Reason: Unit ${name} not found.)`);
  }
  out.push(`     Active: ${activeLine(s)}`);
  if (s && mainAlive(s)) out.push(`   Main PID: ${s.mainPid} (${comm(s.mainPid)})`);
  if (s?.statusText) out.push(`     Status: "${s.statusText}"`);
  out.push(`    Journal: ${paths.journal(name)}`);
  if (existsSync(paths.journal(name))) {
    const tail = readFileSync(paths.journal(name), "utf8").trimEnd().split("\n").slice(-lines);
    out.push("", ...tail);
  }
  return out.join("\n");
}

export function properties(name: string, loaded: Loaded | null, raw: UnitState | null): Map<string, string> {
  const s = effectiveState(raw);
  const u = loaded?.unit;
  const alive = s && mainAlive(s);
  return new Map<string, string>([
    ["Id", name],
    ["Description", u?.description ?? ""],
    ["LoadState", u ? "loaded" : "not-found"],
    ["ActiveState", s?.activeState ?? "inactive"],
    ["SubState", s?.subState ?? "dead"],
    ["Result", s?.result ?? "success"],
    ["MainPID", String(alive ? s.mainPid : 0)],
    ["ExecMainPID", String(s?.mainPid ?? 0)],
    ["ExecMainStatus", String(s?.execMainStatus ?? 0)],
    ["ExecMainCode", s?.execMainCode === "killed" ? "2" : s?.execMainCode === "exited" ? "1" : "0"],
    ["NRestarts", String(s?.nRestarts ?? 0)],
    ["Type", u?.type ?? ""],
    ["Restart", u?.restart ?? ""],
    ["FragmentPath", u?.fragmentPath ?? ""],
    ["UnitFileState", u ? unitFileState(u) : ""],
    ["NeedDaemonReload", loaded?.changedOnDisk ? "yes" : "no"],
    ["InvocationID", s?.invocationId ?? ""],
    ["StatusText", s?.statusText ?? ""],
    ["ActiveEnterTimestamp", timestamp(s?.activeEnterTimestamp ?? null)],
    ["StateChangeTimestamp", timestamp(s?.stateChangeTimestamp ?? null)],
  ]);
}
