// One detached supervisor per started unit (the stand-in for PID 1's job engine): runs ExecCondition,
// ExecStartPre and ExecStart, tracks READY=1 for Type=notify, applies Restart=/RestartSec= and the
// start rate limit, and on SIGTERM (systemctl stop) stops the service's process group.
// Usage: node supervisor.ts <unit> <invocation-id>; stdout/stderr are the unit's journal file.
import { type ChildProcess, spawn } from "node:child_process";
import { appendFileSync, openSync, rmSync } from "node:fs";
import { constants, hostname } from "node:os";
import { commandArgv, type ExecCommand } from "./exec-line.ts";
import { loadUnit } from "./loader.ts";
import { type NotifyReceiver, startNotifyReceiver } from "./notify.ts";
import { CLEAN_SIGNALS, serviceEnv, wantsRestart } from "./policy.ts";
import {
  ensureStateDirs,
  paths,
  processStartTime,
  type Result,
  type UnitState,
  writeState,
} from "./state.ts";
import type { Unit } from "./unit.ts";

const [unitName, invocationId] = process.argv.slice(2) as [string, string];

ensureStateDirs();
const journal = openSync(paths.journal(unitName), "a");
let state: UnitState = {
  unit: unitName,
  invocationId,
  supervisorPid: process.pid,
  supervisorStart: processStartTime(process.pid) ?? "",
  mainPid: 0,
  mainStart: "",
  activeState: "activating",
  subState: "start-pre",
  result: "success",
  job: "running",
  nRestarts: 0,
  execMainStatus: null,
  execMainCode: null,
  statusText: "",
  activeEnterTimestamp: null,
  stateChangeTimestamp: Date.now(),
};
let stopping = false;
let main: ChildProcess | null = null;
let aux: ChildProcess | null = null;
let wake: (() => void) | null = null;
let notify: NotifyReceiver | null = null;

function update(patch: Partial<UnitState>): void {
  state = { ...state, ...patch, stateChangeTimestamp: Date.now() };
  writeState(state);
}

function log(msg: string): void {
  const d = new Date().toString();
  const ts = `${d.slice(4, 10)} ${d.slice(16, 24)}`;
  appendFileSync(journal, `${ts} ${hostname()} systemd[${process.pid}]: ${msg}\n`);
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {}
}

function spawnCommand(cmd: ExecCommand, unit: Unit, env: Record<string, string>, detached: boolean) {
  const argv = commandArgv(cmd.command, env);
  return spawn(argv[0]!, argv.slice(1), {
    env,
    cwd: unit.workingDirectory,
    detached,
    stdio: ["ignore", journal, journal],
  });
}

/** Exit status of a helper command; 203 (EXEC) when it cannot be run, as in systemd. */
function runAux(cmd: ExecCommand, unit: Unit, env: Record<string, string>): Promise<number> {
  return new Promise((resolve) => {
    aux = spawnCommand(cmd, unit, env, false);
    aux.on("error", (err) => {
      log(`${unitName}: Failed to execute ${cmd.command}: ${err.message}`);
      resolve(203);
    });
    aux.on("exit", (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  }).finally(() => {
    aux = null;
  }) as Promise<number>;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    wake = () => {
      clearTimeout(t);
      resolve();
    };
  });
}

function onNotify(fields: Map<string, string>): void {
  const status = fields.get("STATUS");
  if (status !== undefined) update({ statusText: status });
  if (fields.get("READY") === "1" && main && state.activeState === "activating") {
    update({ activeState: "active", subState: "running", activeEnterTimestamp: Date.now() });
    if (state.job === "running") update({ job: "done" });
    log(`Started ${currentDescription}.`);
  }
}

let currentDescription = unitName;

interface MainExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
}

async function runMain(unit: Unit, env: Record<string, string>): Promise<MainExit> {
  const cmd = unit.execStart[0];
  if (!cmd) throw new Error("Service has no ExecStart= setting, refusing.");
  let timedOut = false;
  const exited = new Promise<MainExit>((resolve) => {
    main = spawnCommand(cmd, unit, env, true);
    main.on("error", (err) => {
      log(`${unitName}: Failed to execute ${cmd.command}: ${err.message}`);
      resolve({ code: 203, signal: null, timedOut });
    });
    main.on("exit", (code, signal) => resolve({ code, signal, timedOut }));
  });
  const pid = main!.pid ?? 0;
  update({ mainPid: pid, mainStart: processStartTime(pid) ?? "", subState: "start" });
  if (unit.type === "simple" || unit.type === "exec" || unit.type === "forking") {
    update({ activeState: "active", subState: "running", activeEnterTimestamp: Date.now(), job: "done" });
    log(`Started ${unit.description}.`);
  }
  let timer: NodeJS.Timeout | undefined;
  if (unit.type === "notify" && unit.timeoutStartMs !== null) {
    timer = setTimeout(() => {
      if (state.activeState !== "activating" || !pid) return;
      timedOut = true;
      log(`${unitName}: start operation timed out. Terminating.`);
      killGroup(pid, "SIGTERM");
    }, unit.timeoutStartMs);
  }
  const result = await exited;
  clearTimeout(timer);
  if (pid) killGroup(pid, "SIGKILL"); // leftovers of the service's process group
  main = null;
  return { ...result, timedOut };
}

function finish(activeState: "inactive" | "failed", result: Result): never {
  update({ activeState, subState: activeState === "failed" ? "failed" : "dead", mainPid: 0, result });
  if (state.job === "running") update({ job: activeState === "failed" ? "failed" : "done" });
  if (activeState === "failed") log(`${unitName}: Failed with result '${result}'.`);
  notify?.close();
  rmSync(paths.notifySocket(unitName), { force: true });
  process.exit(0);
}

process.on("SIGTERM", () => {
  if (stopping) return;
  stopping = true;
  update({ activeState: "deactivating", subState: "stop-sigterm" });
  log(`Stopping ${currentDescription}...`);
  aux?.kill("SIGTERM");
  wake?.();
  const pid = main?.pid;
  if (!pid) return;
  killGroup(pid, "SIGTERM");
  const timeoutMs = loadUnit(unitName)?.unit.timeoutStopMs ?? 90_000;
  setTimeout(() => {
    log(`${unitName}: State 'stop-sigterm' timed out. Killing.`);
    update({ subState: "stop-sigkill" });
    killGroup(pid, "SIGKILL");
  }, timeoutMs).unref();
});

async function loop(): Promise<never> {
  const starts: number[] = [];
  for (;;) {
    const loaded = loadUnit(unitName);
    if (!loaded) finish("failed", "resources");
    const unit = loaded.unit;
    currentDescription = unit.description;
    const now = Date.now();
    starts.push(now);
    while (starts.length && starts[0]! < now - unit.startLimitIntervalMs) starts.shift();
    if (starts.length > unit.startLimitBurst) {
      log(`${unitName}: Start request repeated too quickly.`);
      finish("failed", "start-limit-hit");
    }
    let env: Record<string, string>;
    try {
      env = serviceEnv(unit, invocationId, paths.notifySocket(unitName));
      if (unit.type === "notify" && !notify) {
        notify = await startNotifyReceiver(paths.notifySocket(unitName), (m) => onNotify(m.fields));
      }
    } catch (err) {
      log(`${unitName}: ${(err as Error).message}`);
      finish("failed", "resources");
    }
    update({ activeState: "activating", subState: "start-pre", statusText: "" });
    for (const cmd of unit.execCondition) {
      const rc = await runAux(cmd, unit, env);
      if (rc !== 0 && rc < 255) {
        log(
          `${unitName}: Skipped due to 'exec-condition'. Condition check resulted in ${unit.description} being skipped.`,
        );
        finish("inactive", "success");
      }
    }
    let result: Result = "success";
    let clean = true;
    for (const cmd of unit.execStartPre) {
      const rc = await runAux(cmd, unit, env);
      if (rc !== 0 && !cmd.ignoreFailure && !stopping) {
        log(`${unitName}: Control process exited, code=exited, status=${rc}/FAILURE`);
        result = "exit-code";
        clean = false;
        break;
      }
    }
    if (clean && !stopping) {
      const exit = await runMain(unit, env);
      const status = exit.signal
        ? `code=killed, status=${constants.signals[exit.signal]}/${exit.signal.slice(3)}`
        : `code=exited, status=${exit.code}/${exit.code === 0 ? "SUCCESS" : "FAILURE"}`;
      log(`${unitName}: Main process exited, ${status}`);
      update({ execMainStatus: exit.code, execMainCode: exit.signal ? "killed" : "exited" });
      clean = exit.code === 0 || (exit.signal !== null && CLEAN_SIGNALS.has(exit.signal));
      result = exit.timedOut ? "timeout" : clean ? "success" : exit.signal ? "signal" : "exit-code";
      if (exit.timedOut) clean = false;
    }
    for (const cmd of unit.execStopPost) await runAux(cmd, unit, env);
    if (stopping) {
      log(`Stopped ${unit.description}.`);
      finish("inactive", "success");
    }
    if (unit.type === "oneshot" && clean) {
      if (unit.remainAfterExit) {
        update({ activeState: "active", subState: "exited", job: "done", mainPid: 0 });
        notify?.close();
        process.exit(0);
      }
      finish("inactive", "success");
    }
    // A start job whose service died before it was up has failed, even if a restart follows.
    if (state.job === "running") update({ job: "failed", result });
    if (!wantsRestart(unit, clean, result)) finish(clean ? "inactive" : "failed", result);
    update({ activeState: "activating", subState: "auto-restart", mainPid: 0, result });
    await sleep(unit.restartMs);
    if (stopping) finish("inactive", "success");
    update({ nRestarts: state.nRestarts + 1 });
    log(`${unitName}: Scheduled restart job, restart counter is at ${state.nRestarts}.`);
  }
}

update({});
loop().catch((err: Error) => {
  log(`${unitName}: supervisor error: ${err.stack ?? err.message}`);
  finish("failed", "resources");
});
