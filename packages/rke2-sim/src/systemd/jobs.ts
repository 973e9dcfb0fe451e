// start/stop jobs: spawn or signal the unit's supervisor and wait for the outcome the way systemctl
// waits for a job (a Type=notify start returns only after READY=1, or fails when the service dies).
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { openSync, readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { changedWarning, loadUnit } from "./loader.ts";
import {
  effectiveState,
  ensureStateDirs,
  isAlive,
  mainAlive,
  paths,
  readState,
  stateDir,
  supervisorAlive,
  type UnitState,
  withUnitLock,
  writeState,
} from "./state.ts";

const SUPERVISOR = path.join(path.dirname(fileURLToPath(import.meta.url)), "supervisor.ts");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface Io {
  err(line: string): void;
}

async function waitUntil(pred: () => boolean, timeoutMs: number | null): Promise<boolean> {
  const deadline = timeoutMs === null ? Number.POSITIVE_INFINITY : Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (pred()) return true;
    await sleep(100);
  }
  return pred();
}

function jobFailedMessage(unit: string, s: UnitState | null): string {
  const why: Record<string, string> = {
    timeout: "a timeout was exceeded",
    signal: "a fatal signal was delivered to the control process",
    "start-limit-hit": "start of the service was attempted too often",
    resources: "of unavailable resources or another system error",
  };
  const reason = why[s?.result ?? ""] ?? "the control process exited with error code";
  return `Job for ${unit} failed because ${reason}.\nSee "systemctl status ${unit}" and "journalctl -xeu ${unit}" for details.`;
}

function isRunning(s: UnitState | null): boolean {
  const e = effectiveState(s);
  return e !== null && (e.activeState === "active" || e.activeState === "activating");
}

/** Units to stop before starting `name`: its Conflicts= and units that list it in theirs. */
function conflictsOf(name: string, own: string[]): string[] {
  const out = new Set(own);
  let known: string[] = [];
  try {
    known = readdirSync(path.join(stateDir(), "units")).filter((f) => f.endsWith(".json"));
  } catch {}
  for (const f of known) {
    const other = f.slice(0, -".json".length);
    if (other !== name && loadUnit(other)?.unit.conflicts.includes(name)) out.add(other);
  }
  return [...out].filter((u) => u !== name && isRunning(readState(u)));
}

export async function startUnit(name: string, io: Io, noBlock = false): Promise<number> {
  ensureStateDirs();
  const loaded = loadUnit(name);
  if (!loaded) {
    io.err(`Failed to start ${name}: Unit ${name} not found.`);
    return 5;
  }
  if (loaded.changedOnDisk) io.err(changedWarning(name));
  for (const other of conflictsOf(name, loaded.unit.conflicts)) await stopUnit(other, io);
  const launched = await withUnitLock(name, async () => {
    const current = readState(name);
    if (supervisorAlive(current) && isRunning(current)) return { joined: current!, invocationId: "" };
    const invocationId = randomUUID().replaceAll("-", "");
    const journal = openSync(paths.journal(name), "a");
    // setsid (detached): the supervisor outlives this systemctl process, like a job run by PID 1.
    const child = spawn(process.execPath, [SUPERVISOR, name, invocationId], {
      detached: true,
      stdio: ["ignore", journal, journal],
      env: process.env,
    });
    child.unref();
    const pid = child.pid ?? 0;
    await waitUntil(() => readState(name)?.invocationId === invocationId || !isAlive(pid), 10_000);
    return { joined: null, invocationId };
  });
  if (noBlock) return 0;
  if (launched.joined) {
    // Another job is already starting it: wait for that one, like a merged systemd job.
    const restarts = launched.joined.nRestarts;
    await waitUntil(() => {
      const s = effectiveState(readState(name));
      return (
        !isRunning(s) ||
        s!.activeState === "active" ||
        s!.subState === "auto-restart" ||
        s!.nRestarts > restarts
      );
    }, null);
    const s = effectiveState(readState(name));
    if (s?.activeState === "active") return 0;
    io.err(jobFailedMessage(name, s));
    return 1;
  }
  await waitUntil(() => {
    const s = readState(name);
    return s?.invocationId !== launched.invocationId || s.job !== "running" || !supervisorAlive(s);
  }, null);
  const s = readState(name);
  if (s?.invocationId === launched.invocationId && s.job === "done") return 0;
  io.err(jobFailedMessage(name, s));
  return 1;
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {}
}

export async function stopUnit(name: string, io: Io): Promise<number> {
  ensureStateDirs();
  const loaded = loadUnit(name);
  if (!loaded && !readState(name)) {
    io.err(`Failed to stop ${name}: Unit ${name} not loaded.`);
    return 5;
  }
  const stopMs = loaded?.unit.timeoutStopMs ?? 90_000;
  await withUnitLock(name, async () => {
    const s = readState(name);
    if (!s) return;
    if (supervisorAlive(s)) {
      process.kill(s.supervisorPid, "SIGTERM");
      if (await waitUntil(() => !supervisorAlive(s), stopMs + 10_000)) return;
      process.kill(s.supervisorPid, "SIGKILL");
    }
    // No supervisor (it was killed): stop what is left of the service ourselves.
    if (mainAlive(s)) {
      killGroup(s.mainPid, "SIGTERM");
      if (!(await waitUntil(() => !mainAlive(s), stopMs))) killGroup(s.mainPid, "SIGKILL");
    }
    const after = readState(name) ?? s;
    if (after.activeState !== "inactive" && after.activeState !== "failed") {
      writeState({
        ...after,
        activeState: "inactive",
        subState: "dead",
        mainPid: 0,
        stateChangeTimestamp: Date.now(),
      });
    }
  });
  return 0;
}

export async function resetFailed(name: string): Promise<void> {
  await withUnitLock(name, async () => {
    const s = effectiveState(readState(name));
    if (s && s.activeState === "failed" && !supervisorAlive(s) && !mainAlive(s)) {
      writeState({
        ...s,
        activeState: "inactive",
        subState: "dead",
        result: "success",
        stateChangeTimestamp: Date.now(),
      });
    }
  });
}
