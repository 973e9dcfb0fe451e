// World bookkeeping under STATE_ROOT: ids, owners, subnet leases. Lets worlds of parallel
// processes coexist, and lets a later run find and reap the leftovers of a crashed one.
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { isMountPoint, mustSync, pidAlive, processStartTime } from "./host.ts";
import {
  FS_ROOT,
  isWorldId,
  NETNS_DIR,
  netnsPrefix,
  STATE_ROOT,
  subnetsDir,
  worldStateDir,
} from "./layout.ts";

/** A world whose owner file is missing counts as under construction for this long. */
const OWNERLESS_GRACE_MS = 60_000;

/**
 * Makes STATE_ROOT a private mount point: `unshare --mount=FILE` refuses to persist a namespace on a
 * shared mount, and private propagation keeps nodes' namespaces from seeing each other's ns files.
 */
export function ensureStateRoot(): void {
  fs.mkdirSync(subnetsDir(), { recursive: true });
  fs.mkdirSync(FS_ROOT, { recursive: true });
  if (isMountPoint(STATE_ROOT)) return;
  // flock serialises parallel first-time setup; the re-check inside avoids stacking two binds.
  const script = `findmnt -rn --mountpoint "$1" >/dev/null || { mount --bind "$1" "$1" && mount --make-private "$1"; }`;
  mustSync("flock", [path.join(STATE_ROOT, ".mount.lock"), "sh", "-c", script, "sh", STATE_ROOT]);
}

/** Owner line of a persistent world (a lab): no process owns it, so nobody reaps it. */
export const PERSISTENT_OWNER = "persistent";

/** Creates a fresh world id with this process as owner (or none, for a persistent world). */
export function allocateId(persistent = false): string {
  for (;;) {
    const id = randomBytes(2).toString("hex");
    try {
      fs.mkdirSync(worldStateDir(id));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "EEXIST") continue;
      throw e;
    }
    if (fs.existsSync(path.join(FS_ROOT, id)) || netnsOf(id).length > 0) {
      fs.rmdirSync(worldStateDir(id)); // a leftover nobody has reaped yet: pick another id
      continue;
    }
    const owner = persistent ? `${PERSISTENT_OWNER}\n` : `${process.pid} ${processStartTime(process.pid)}\n`;
    fs.writeFileSync(path.join(worldStateDir(id), "owner"), owner);
    fs.mkdirSync(path.join(worldStateDir(id), "ns"));
    return id;
  }
}

/** Leases a /24 index (0-255). With `wanted`, that one or an error. */
export function leaseSubnet(id: string, wanted?: number): number {
  const candidates = wanted === undefined ? range(1, 254) : [wanted];
  if (wanted !== undefined && !(Number.isInteger(wanted) && wanted >= 0 && wanted <= 255)) {
    throw new Error(`world: subnetIndex ${wanted} must be an integer 0-255`);
  }
  for (const k of candidates) {
    try {
      fs.writeFileSync(path.join(subnetsDir(), String(k)), `${id}\n`, { flag: "wx" });
      return k;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
  }
  if (wanted !== undefined) {
    const holder = readOr(path.join(subnetsDir(), String(wanted))).trim();
    throw new Error(`world: subnet 10.250.${wanted}.0/24 is leased by world ${holder}`);
  }
  throw new Error("world: no free subnet in 10.250.1-254.0/24 (leftover worlds? run downAll())");
}

/** Releases every subnet leased by `id`. */
export function releaseSubnets(id: string): void {
  for (const k of readdirOr(subnetsDir())) {
    const p = path.join(subnetsDir(), k);
    if (readOr(p).trim() === id) fs.rmSync(p, { force: true });
  }
}

/** Every world id with any trace on this machine: state dir, files, network namespaces. */
export function knownWorlds(): string[] {
  const ids = new Set<string>();
  for (const e of readdirOr(STATE_ROOT)) if (isWorldId(e)) ids.add(e);
  for (const e of readdirOr(FS_ROOT)) if (isWorldId(e)) ids.add(e);
  for (const e of readdirOr(NETNS_DIR)) {
    const m = /^mw([0-9a-f]{4})-/.exec(e);
    if (m?.[1]) ids.add(m[1]);
  }
  for (const k of readdirOr(subnetsDir())) {
    const holder = readOr(path.join(subnetsDir(), k)).trim();
    if (isWorldId(holder)) ids.add(holder);
  }
  return [...ids].sort();
}

/** True while the process that created world `id` is still running. */
export function ownerAlive(id: string): boolean {
  const ownerFile = path.join(worldStateDir(id), "owner");
  const owner = readOr(ownerFile).trim();
  if (!owner) {
    // Created a moment ago by a process still writing its owner file, or a wreck.
    try {
      return Date.now() - fs.statSync(worldStateDir(id)).mtimeMs < OWNERLESS_GRACE_MS;
    } catch {
      return false;
    }
  }
  if (owner === PERSISTENT_OWNER) return true;
  const [pid, start] = owner.split(" ");
  return pidAlive(Number(pid)) && processStartTime(Number(pid)) === start;
}

/** Takes the right to reap a dead world; false when another live process is already at it. */
export function claimReap(id: string): boolean {
  const lock = path.join(worldStateDir(id), "reaping");
  const me = `${process.pid} ${processStartTime(process.pid)}`;
  try {
    fs.mkdirSync(worldStateDir(id), { recursive: true });
    fs.writeFileSync(lock, me, { flag: "wx" });
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
  }
  const [pid, start] = readOr(lock).trim().split(" ");
  if (pidAlive(Number(pid)) && processStartTime(Number(pid)) === start) return false;
  fs.writeFileSync(lock, me);
  return true;
}

export function netnsOf(id: string): string[] {
  return readdirOr(NETNS_DIR).filter((e) => e.startsWith(netnsPrefix(id)));
}

export function readdirOr(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

function readOr(p: string): string {
  try {
    return fs.readFileSync(p, "utf8");
  } catch {
    return "";
  }
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}
