// Small synchronous host helpers (teardown must also work from a process 'exit' hook, so it is sync).
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command synchronously; never throws for a non-zero exit. */
export function runSync(cmd: string, args: readonly string[], input?: string): RunResult {
  const r = spawnSync(cmd, args, { encoding: "utf8", input, timeout: 30_000 });
  const code = r.error ? 127 : (r.status ?? 128);
  return { code, stdout: r.stdout ?? "", stderr: r.stderr ?? String(r.error ?? "") };
}

/** Runs a command synchronously and throws with its stderr on failure. */
export function mustSync(cmd: string, args: readonly string[], input?: string): string {
  const r = runSync(cmd, args, input);
  if (r.code !== 0) throw new Error(`world: ${cmd} ${args.join(" ")} failed (${r.code}): ${r.stderr.trim()}`);
  return r.stdout;
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));
export function sleepSync(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}

/** Absolute path of an executable found in PATH (plus the sbin dirs), or undefined. */
export function which(cmd: string): string | undefined {
  const dirs = [...(process.env["PATH"] ?? "").split(":"), "/usr/sbin", "/sbin", "/usr/bin", "/bin"];
  for (const dir of dirs) {
    if (!dir) continue;
    const p = path.join(dir, cmd);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      if (fs.statSync(p).isFile()) return p;
    } catch {}
  }
  return undefined;
}

export interface MountEntry {
  id: number;
  parent: number;
  target: string;
  fstype: string;
}

/** Mounts of this process's mount namespace (the host's, for the harness). */
export function mounts(): MountEntry[] {
  const text = fs.readFileSync("/proc/self/mountinfo", "utf8");
  const out: MountEntry[] = [];
  for (const line of text.split("\n")) {
    if (!line) continue;
    const [left, right] = line.split(" - ");
    const f = (left ?? "").split(" ");
    out.push({
      id: Number(f[0]),
      parent: Number(f[1]),
      target: unescapeMount(f[4] ?? ""),
      fstype: (right ?? "").split(" ")[0] ?? "",
    });
  }
  return out;
}

function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)));
}

export function isMountPoint(p: string): boolean {
  return mounts().some((m) => m.target === p);
}

/** Start time of a process (clock ticks since boot), or undefined when it does not exist. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return fields[19];
  } catch {
    return undefined;
  }
}

/** Namespace inode of a `/proc/<pid>/ns/<kind>` link, or undefined. */
export function nsInode(pid: number | "self", kind: "net" | "mnt" | "uts"): number | undefined {
  try {
    const m = /\[(\d+)\]/.exec(fs.readlinkSync(`/proc/${pid}/ns/${kind}`));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

export function pids(): number[] {
  return fs
    .readdirSync("/proc")
    .filter((e) => /^\d+$/.test(e))
    .map(Number);
}

export function pidAlive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}
