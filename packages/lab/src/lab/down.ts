// `lab down`: removes every namespace, mount, process and file of a lab, from its manifest and by
// discovery (destroyWorld), so it works after a clean `up`, a crashed one, or a half-removed lab.
import fs from "node:fs";
import path from "node:path";
import { mounts, pidAlive, processStartTime, runSync, sleepSync } from "../world/host.ts";
import { isWorldId, NETNS_DIR, worldFsDir, worldStateDir } from "../world/layout.ts";
import { knownWorlds } from "../world/registry.ts";
import { destroyWorld } from "../world/teardown.ts";
import { LAB_ROOT, LabInputError, labDir, labIds, readManifest } from "./state.ts";

export interface DownReport {
  id: string;
  killed: number[];
  problems: string[];
}

/** True when anything of lab `id` exists on this host. */
export function labExists(id: string): boolean {
  return isWorldId(id) && (fs.existsSync(labDir(id)) || knownWorlds().includes(id));
}

export function labDown(id: string): DownReport {
  if (!labExists(id)) throw new LabInputError(`no lab "${id}" (see \`lab ls\`)`);
  return destroyLab(id);
}

export function destroyLab(id: string): DownReport {
  const manifest = readManifest(id);
  const killed: number[] = [];
  // Host-side processes first (they are in no namespace of the lab, so discovery cannot find them).
  for (const e of manifest) {
    if (e.kind !== "process" || e.pid === undefined) continue;
    if (processStartTime(e.pid) !== e.start) continue; // gone, or the pid was reused
    try {
      process.kill(e.pid, "SIGKILL");
      killed.push(e.pid);
    } catch {}
  }
  const deadline = Date.now() + 3000;
  while (killed.some(pidAlive) && Date.now() < deadline) sleepSync(20);
  const report = destroyWorld(id);
  const problems = [...report.problems];
  // What the manifest names and discovery missed (e.g. a namespace file written but never bound).
  const mounted = new Set(mounts().map((m) => m.target));
  for (const e of manifest) {
    if (e.kind === "netns" && fs.existsSync(path.join(NETNS_DIR, e.name))) {
      const r = runSync("ip", ["netns", "delete", e.name]);
      if (r.code !== 0) problems.push(`ip netns delete ${e.name}: ${r.stderr.trim()}`);
    }
    if (e.kind === "nsfile" && mounted.has(e.path) && runSync("umount", ["--lazy", e.path]).code !== 0)
      problems.push(`umount ${e.path}`);
  }
  for (const dir of [worldStateDir(id), worldFsDir(id)]) {
    if (fs.existsSync(dir)) problems.push(`left ${dir}`);
  }
  fs.rmSync(labDir(id), { recursive: true, force: true });
  // The shared systemctl wrappers go with the last lab.
  if (labIds().length === 0) fs.rmSync(path.join(LAB_ROOT, "bin"), { recursive: true, force: true });
  return { id, killed: [...killed, ...report.killed], problems };
}
