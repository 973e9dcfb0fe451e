// Removes every trace of a world, found by discovery rather than bookkeeping, so the same code
// cleans a live world, a half-built one and the wreck of a crashed run. Synchronous on purpose:
// it also runs from a process 'exit' hook.
import fs from "node:fs";
import path from "node:path";
import { mounts, nsInode, pidAlive, pids, runSync, sleepSync } from "./host.ts";
import { isUnder, NETNS_DIR, worldFsDir, worldStateDir } from "./layout.ts";
import { netnsOf, readdirOr, releaseSubnets } from "./registry.ts";

const TERM_GRACE_MS = 3000;
const KILL_GRACE_MS = 3000;

export interface TeardownReport {
  id: string;
  killed: number[];
  problems: string[];
}

export function destroyWorld(id: string): TeardownReport {
  const problems: string[] = [];
  const netns = netnsOf(id).map((n) => path.join(NETNS_DIR, n));
  const nsDir = path.join(worldStateDir(id), "ns");
  const nsFiles = readdirOr(nsDir).map((f) => path.join(nsDir, f));

  const mounted = new Set(mounts().map((m) => m.target));
  const inodes = new Set<number>();
  for (const p of [...netns, ...nsFiles]) {
    if (!mounted.has(p)) continue; // a plain file left by a crash before its namespace was bound
    try {
      inodes.add(fs.statSync(p).ino);
    } catch {}
  }

  const killed = killMembers(inodes, problems);

  for (const p of nsFiles) {
    if (mounted.has(p)) unmount(p, problems);
  }
  for (const p of netns) {
    const r = runSync("ip", ["netns", "delete", path.basename(p)]);
    if (r.code !== 0 && fs.existsSync(p))
      problems.push(`ip netns delete ${path.basename(p)}: ${r.stderr.trim()}`);
  }

  for (const dir of [worldStateDir(id), worldFsDir(id)]) {
    // Never recurse through a mount point: rm would delete the mounted files.
    const below = mounts().filter((m) => isUnder(m.target, dir));
    for (const m of below.reverse()) unmount(m.target, problems);
    if (mounts().some((m) => isUnder(m.target, dir))) {
      problems.push(`left ${dir} in place: still has mounts`);
      continue;
    }
    try {
      fs.rmSync(dir, { recursive: true, force: true });
    } catch (e) {
      problems.push(`rm ${dir}: ${(e as Error).message}`);
    }
  }
  releaseSubnets(id);
  return { id, killed, problems };
}

/** Kills every process whose network, mount or UTS namespace is one of `inodes`. */
function killMembers(inodes: Set<number>, problems: string[]): number[] {
  if (inodes.size === 0) return [];
  const members = (): number[] =>
    pids().filter(
      (pid) =>
        pid !== process.pid &&
        (["net", "mnt", "uts"] as const).some((k) => {
          const ino = nsInode(pid, k);
          return ino !== undefined && inodes.has(ino);
        }),
    );
  const first = members();
  signalAll(first, "SIGTERM");
  if (!waitGone(members, TERM_GRACE_MS)) {
    signalAll(members(), "SIGKILL");
    if (!waitGone(members, KILL_GRACE_MS))
      problems.push(`processes survived SIGKILL: ${members().join(" ")}`);
  }
  return first;
}

function signalAll(list: number[], sig: NodeJS.Signals): void {
  for (const pid of list) {
    try {
      process.kill(pid, sig);
    } catch {}
  }
}

function waitGone(members: () => number[], ms: number): boolean {
  const deadline = Date.now() + ms;
  for (;;) {
    const left = members().filter(pidAlive);
    if (left.length === 0) return true;
    if (Date.now() > deadline) return false;
    sleepSync(50);
  }
}

function unmount(p: string, problems: string[]): void {
  if (runSync("umount", [p]).code === 0) return;
  const r = runSync("umount", ["--lazy", p]);
  if (r.code !== 0) problems.push(`umount ${p}: ${r.stderr.trim()}`);
}
