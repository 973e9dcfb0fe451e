// Helpers for the lab's CLI tests: spawned `lab` and `muster` children, traces seen from outside.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { canRunWorld } from "@muster/lab/world/world";
import { execa } from "execa";
import t from "tap";

export const REPO = path.resolve(import.meta.dirname, "../..");
const LAB = path.join(REPO, "packages/lab/src/lab/main.ts");
const MUSTER = path.join(REPO, "packages/cli/src/bin.ts");
export const FAST = ["--init-seconds", "0", "--join-seconds", "0", "--agent-seconds", "0"];
const can = canRunWorld();
export const skip = can.ok ? false : `the lab needs root and namespaces: ${can.reason}`;

export interface LabJson {
  id: string;
  coordinator: { url: string; pin: string; adminTokenFile: string; caFile: string };
  registrationAddress: string;
  nodes: { name: string; role: string; address: string }[];
  env: Record<string, string>;
}

// A clean environment (no tap variables) from a directory with no muster defaults around.
const cwd = fs.mkdtempSync(path.join(os.tmpdir(), "lab-cli-"));
t.teardown(() => fs.rmSync(cwd, { recursive: true, force: true }));
const baseEnv = { PATH: process.env["PATH"] ?? "/usr/bin:/bin", HOME: cwd, LANG: "C.UTF-8" };

export function lab(args: string[]) {
  return execa(process.execPath, [LAB, ...args], {
    reject: false,
    env: baseEnv,
    extendEnv: false,
    cwd: REPO,
  });
}

export function muster(env: Record<string, string>, args: string[]) {
  return execa(process.execPath, [MUSTER, ...args], {
    reject: false,
    env: { ...baseEnv, ...env },
    extendEnv: false,
    cwd,
  });
}

export async function until<T>(what: string, check: () => Promise<T | undefined>, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

export async function nodes(env: Record<string, string>) {
  const r = await muster(env, ["nodes", "-o", "json"]);
  if (r.exitCode !== 0) throw new Error(`muster nodes: ${r.stderr}`);
  return (
    JSON.parse(r.stdout) as { nodes: { name: string; state: string; connected: boolean; init: boolean }[] }
  ).nodes;
}

/** Every trace of lab `id` visible from outside. */
export function traces(id: string, pids: number[]) {
  const netns = fs.existsSync("/run/netns")
    ? fs.readdirSync("/run/netns").filter((n) => n.startsWith(`mw${id}-`))
    : [];
  const mounts = fs
    .readFileSync("/proc/mounts", "utf8")
    .split("\n")
    .filter((l) => l.includes(`/${id}/`) || l.includes(`mw${id}-`));
  // A zombie is dead: only its exit status waits for a parent outside the lab (here often PID 1) to
  // collect it, which the lab cannot hurry. Anything still running counts.
  const alive = pids.filter((p) => {
    try {
      const stat = fs.readFileSync(`/proc/${p}/stat`, "utf8");
      return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
    } catch {
      return false;
    }
  });
  return { netns, mounts, alive };
}

/** Pids of every process in the lab's namespaces plus the host forwarder (by its socket argument). */
export async function labPids(id: string): Promise<number[]> {
  const out: number[] = [];
  for (const ns of fs.readdirSync("/run/netns").filter((n) => n.startsWith(`mw${id}-`))) {
    const r = await execa("ip", ["netns", "pids", ns], { reject: false });
    out.push(...r.stdout.split("\n").filter(Boolean).map(Number));
  }
  const ps = await execa("ps", ["-eo", "pid=,args="]);
  for (const line of ps.stdout.split("\n")) {
    if (line.includes(`/muster-world/${id}/`)) out.push(Number(line.trim().split(/\s+/)[0]));
  }
  return [...new Set(out)];
}
