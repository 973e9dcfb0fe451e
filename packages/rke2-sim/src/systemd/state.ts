// The stand-in's "manager state": one JSON file per unit written by its supervisor, journals, notify
// sockets, daemon-reload snapshots and per-unit locks, all under SYSTEMCTL_SIM_STATE_DIR.
import {
  closeSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import path from "node:path";

export type ActiveState = "inactive" | "activating" | "active" | "deactivating" | "failed";
export type Result = "success" | "exit-code" | "signal" | "timeout" | "start-limit-hit" | "resources";

export interface UnitState {
  unit: string;
  invocationId: string;
  supervisorPid: number;
  supervisorStart: string;
  mainPid: number;
  mainStart: string;
  activeState: ActiveState;
  subState: string;
  result: Result;
  /** Outcome of the start job that launched this supervisor; later auto-restarts leave it alone. */
  job: "running" | "done" | "failed";
  nRestarts: number;
  execMainStatus: number | null;
  execMainCode: "exited" | "killed" | null;
  statusText: string;
  activeEnterTimestamp: number | null;
  stateChangeTimestamp: number;
}

export function stateDir(): string {
  return process.env["SYSTEMCTL_SIM_STATE_DIR"] || "/run/systemctl-sim";
}

export const paths = {
  state: (unit: string) => path.join(stateDir(), "units", `${unit}.json`),
  journal: (unit: string) => path.join(stateDir(), "journal", `${unit}.log`),
  notifySocket: (unit: string) => path.join(stateDir(), "notify", `${unit}.sock`),
  loaded: (unit: string) => path.join(stateDir(), "loaded", unit),
  lock: (unit: string) => path.join(stateDir(), "locks", `${unit}.lock`),
};

export function ensureStateDirs(): void {
  for (const d of ["units", "journal", "notify", "loaded", "locks"]) {
    mkdirSync(path.join(stateDir(), d), { recursive: true, mode: 0o755 });
  }
}

export function readState(unit: string): UnitState | null {
  try {
    return JSON.parse(readFileSync(paths.state(unit), "utf8")) as UnitState;
  } catch {
    return null;
  }
}

/** Atomic replace, so a reader never sees half a file. */
export function writeState(state: UnitState): void {
  const file = paths.state(state.unit);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(state, null, 1));
  renameSync(tmp, file);
}

export function removeState(unit: string): void {
  rmSync(paths.state(unit), { force: true });
}

/** Field 22 of /proc/<pid>/stat; distinguishes a live process from a recycled pid. */
export function processStartTime(pid: number): string | null {
  if (!pid) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (fields[0] === "Z" || fields[0] === "X") return null; // a zombie is dead, only not yet reaped
    return fields[19] ?? null;
  } catch {
    return null;
  }
}

export function isAlive(pid: number, startTime?: string): boolean {
  const actual = processStartTime(pid);
  return actual !== null && (startTime === undefined || startTime === "" || actual === startTime);
}

export function supervisorAlive(s: UnitState | null): boolean {
  return s !== null && isAlive(s.supervisorPid, s.supervisorStart);
}

export function mainAlive(s: UnitState | null): boolean {
  return s !== null && s.mainPid > 0 && isAlive(s.mainPid, s.mainStart);
}

/**
 * The state as reality has it: a unit whose supervisor and main process are both gone cannot be
 * active, whatever its file says (the supervisor may have been SIGKILLed).
 */
export function effectiveState(s: UnitState | null): UnitState | null {
  if (!s || s.activeState === "inactive" || s.activeState === "failed") return s;
  if (supervisorAlive(s) || mainAlive(s)) return s;
  return { ...s, activeState: "failed", subState: "failed", mainPid: 0, result: "signal" };
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Runs fn holding the unit's lock; a lock left by a dead process is broken. */
export async function withUnitLock<T>(unit: string, fn: () => Promise<T>): Promise<T> {
  const file = paths.lock(unit);
  for (;;) {
    try {
      const fd = openSync(file, "wx", 0o600);
      writeSync(fd, `${process.pid} ${processStartTime(process.pid)}`);
      closeSync(fd);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      let holder: string[] = [];
      try {
        holder = readFileSync(file, "utf8").split(" ");
      } catch {}
      if (holder.length === 2 && !isAlive(Number(holder[0]), holder[1])) rmSync(file, { force: true });
      else sleepSync(50);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(file, { force: true });
  }
}
