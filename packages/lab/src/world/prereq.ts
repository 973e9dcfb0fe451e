// Can this machine run a world? Checked once, up front, with a reason naming what is missing.
import fs from "node:fs";
import { runSync, which } from "./host.ts";
import { FS_ROOT, isUnder, OVERLAY_DIRS } from "./layout.ts";

export type CanRun = { ok: true } | { ok: false; reason: string };

const TOOLS: readonly [cmd: string, pkg: string][] = [
  ["ip", "iproute2"],
  ["unshare", "util-linux"],
  ["nsenter", "util-linux"],
  ["flock", "util-linux"],
  ["findmnt", "util-linux"],
  ["mount", "mount"],
  ["umount", "mount"],
  ["arping", "arping"],
  ["sh", "dash"],
];

let cached: CanRun | undefined;

/** Whether worlds can run here; tests use it to skip with a message. The namespace probe runs once. */
export function canRunWorld(): CanRun {
  cached ??= probe();
  return cached;
}

/** Throws a clear error when worlds cannot run here. */
export function assertCanRunWorld(): void {
  const r = canRunWorld();
  if (!r.ok) throw new Error(`world: cannot run here: ${r.reason}`);
}

function probe(): CanRun {
  if (process.platform !== "linux") return { ok: false, reason: `needs Linux, this is ${process.platform}` };
  if (process.getuid?.() !== 0) return { ok: false, reason: "needs root (network and mount namespaces)" };
  const missing = TOOLS.filter(([cmd]) => !which(cmd)).map(([cmd, pkg]) => `${cmd} (package ${pkg})`);
  if (missing.length > 0) return { ok: false, reason: `missing commands: ${missing.join(", ")}` };
  const filesystems = readOr("/proc/filesystems");
  if (!/\toverlay\n/.test(filesystems))
    return { ok: false, reason: "kernel lacks overlayfs (modprobe overlay)" };
  if (!fs.existsSync("/proc/self/ns/mnt"))
    return { ok: false, reason: "kernel lacks namespaces (/proc/self/ns)" };
  for (const dir of OVERLAY_DIRS) {
    if (isUnder(FS_ROOT, dir))
      return { ok: false, reason: `MUSTER_WORLD_ROOT (${FS_ROOT}) must not be under ${dir}` };
  }
  const r = runSync("unshare", ["--net", "--mount", "--uts", "--propagation", "private", "true"]);
  if (r.code !== 0) {
    return {
      ok: false,
      reason: `cannot create namespaces (unshare: ${r.stderr.trim() || `exit ${r.code}`})`,
    };
  }
  return { ok: true };
}

function readOr(p: string): string {
  try {
    return fs.readFileSync(p, "utf8");
  } catch {
    return "";
  }
}
