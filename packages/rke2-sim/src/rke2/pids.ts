// Pid files under <data-dir>/sim/pids, "<pid> <starttime>", so rke2-killall.sh can kill exactly this
// node's processes (several simulated nodes may share one host) and never a recycled pid.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";

function startTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return fields[0] === "Z" ? null : (fields[19] ?? null);
  } catch {
    return null;
  }
}

const pidFile = (dataDir: string, name: string) => path.join(dataDir, "sim", "pids", `${name}.pid`);

export function writePid(dataDir: string, name: string, pid: number): void {
  mkdirSync(path.dirname(pidFile(dataDir, name)), { recursive: true });
  writeFileSync(pidFile(dataDir, name), `${pid} ${startTime(pid) ?? ""}\n`);
}

export function removePid(dataDir: string, name: string): void {
  rmSync(pidFile(dataDir, name), { force: true });
}

/** Kills a process left running by an earlier, crashed incarnation (e.g. an orphaned etcd). */
export function killStale(dataDir: string, name: string): boolean {
  let content = "";
  try {
    content = readFileSync(pidFile(dataDir, name), "utf8");
  } catch {
    return false;
  }
  const [pid, started] = content.trim().split(" ");
  const n = Number(pid);
  if (n > 0 && n !== process.pid && started && startTime(n) === started) {
    try {
      process.kill(n, "SIGKILL");
      return true;
    } catch {}
  }
  removePid(dataDir, name);
  return false;
}

/** The recorded pid when that very process (same start time) is still alive, else null. */
export function livePid(dataDir: string, name: string): number | null {
  let content = "";
  try {
    content = readFileSync(pidFile(dataDir, name), "utf8");
  } catch {
    return null;
  }
  const [pid, started] = content.trim().split(" ");
  const n = Number(pid);
  return n > 0 && started && startTime(n) === started ? n : null;
}
