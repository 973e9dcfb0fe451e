// A machine's filesystem view: a persistent private mount namespace in which /etc, /opt, /usr and
// /var are per-node copy-on-write overlays of the host's, and the directories and files the project
// touches (BIND_DIRS, BIND_FILES) are per-node host directories, so tests can read them via node.path().
import fs from "node:fs";
import path from "node:path";
import { mounts } from "./host.ts";
import {
  BIND_DIRS,
  BIND_FILES,
  isUnder,
  NETNS_DIR,
  nodeDirs,
  OVERLAY_DIRS,
  STATE_ROOT,
  SYSTEMCTL_PATH,
  shq,
} from "./layout.ts";

export interface FsSpec {
  id: string;
  node: string;
  hostname: string;
  machineId: string;
  ip: string;
  /** Host file bound read-only over /usr/bin/systemctl. */
  systemctl?: string | undefined;
}

/** Overlay dirs that exist on this host (a missing one simply is not overlaid). */
export function overlayDirs(): string[] {
  return OVERLAY_DIRS.filter((d) => isRealDir(d));
}

/** Creates the node's host-side directories and files (bind sources, overlay dirs). */
export function prepareNodeFiles(spec: FsSpec): void {
  const d = nodeDirs(spec.id, spec.node);
  for (const target of BIND_DIRS) fs.mkdirSync(path.join(d.fs, target), { recursive: true });
  for (const sub of ["bin", "lib", "sbin", "share"]) fs.mkdirSync(path.join(d.fs, "usr/local", sub));
  fs.mkdirSync(path.join(d.fs, "run/lock"));
  fs.chmodSync(path.join(d.fs, "tmp"), 0o1777);
  const files: Record<(typeof BIND_FILES)[number], string> = {
    "/etc/hostname": `${spec.hostname}\n`,
    "/etc/hosts": `127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n${spec.ip}\t${spec.hostname}\n`,
    "/etc/machine-id": `${spec.machineId}\n`,
  };
  for (const [target, content] of Object.entries(files)) fs.writeFileSync(path.join(d.fs, target), content);
  for (const dir of overlayDirs()) {
    const o = path.join(d.overlay, overlayKey(dir));
    fs.mkdirSync(path.join(o, "upper"), { recursive: true });
    fs.mkdirSync(path.join(o, "work"));
  }
  fs.mkdirSync(d.stage, { recursive: true });
}

/**
 * The sh script run as the first process of the node's new mount + UTS namespaces (inside its netns).
 * Order matters: overlays first, then binds into them, sysfs, and /run and /tmp last because the
 * bind sources live under /tmp on the host.
 */
export function setupScript(spec: FsSpec): string {
  const d = nodeDirs(spec.id, spec.node);
  const L: string[] = [];
  // Drop this namespace's copies of other namespaces' files, so it pins no other world or node.
  for (const p of [NETNS_DIR, STATE_ROOT]) L.push(`umount --lazy ${shq(p)} 2>/dev/null || true`);
  L.push(`echo ${shq(spec.hostname)} > /proc/sys/kernel/hostname`);
  let stage = 0;
  for (const dir of overlayDirs()) {
    // Host mounts below an overlaid dir (e.g. a container's /etc/resolv.conf) are moved on top of it.
    const keep = topLevelMountsBelow(dir).map((target) => ({
      target,
      at: path.join(d.stage, `m${stage++}`),
    }));
    for (const k of keep) {
      L.push(`${isRealDir(k.target) ? "mkdir" : "touch"} ${shq(k.at)}`);
      L.push(`mount --rbind ${shq(k.target)} ${shq(k.at)} || rm -rf ${shq(k.at)}`);
    }
    const o = path.join(d.overlay, overlayKey(dir));
    const opts = `lowerdir=${dir},upperdir=${o}/upper,workdir=${o}/work`;
    L.push(`mount -t overlay overlay -o ${shq(opts)} ${shq(dir)}`);
    for (const k of keep) L.push(`[ ! -e ${shq(k.at)} ] || mount --move ${shq(k.at)} ${shq(k.target)}`);
  }
  // Parked before any per-node bind could hide it (see the end of this script).
  const hidden = BIND_DIRS.some((t) => isUnder(REPO_ROOT, t));
  if (hidden) L.push(`mkdir -p ${REPO_PARK}`, `mount --rbind ${shq(REPO_ROOT)} ${REPO_PARK}`);
  const late = new Set(["/run", "/tmp"]);
  for (const target of BIND_DIRS.filter((t) => !late.has(t))) {
    L.push(`mkdir -p ${shq(target)}`, bind(path.join(d.fs, target), target));
  }
  for (const target of BIND_FILES) L.push(`touch ${shq(target)}`, bind(path.join(d.fs, target), target));
  if (spec.systemctl) {
    L.push(`touch ${shq(SYSTEMCTL_PATH)}`, bind(spec.systemctl, SYSTEMCTL_PATH));
    L.push(`mount -o remount,bind,ro ${shq(SYSTEMCTL_PATH)}`);
  }
  // sysfs as seen from the node's netns (/sys/class/net lists eth0 and lo), keeping the cgroup mounts.
  const cg = path.join(d.stage, "cgroup");
  L.push(`if [ -d /sys/fs/cgroup ]; then mkdir ${shq(cg)} && mount --rbind /sys/fs/cgroup ${shq(cg)}; fi`);
  L.push("mount -t sysfs sysfs /sys");
  L.push(`if [ -d ${shq(cg)} ]; then mount --move ${shq(cg)} /sys/fs/cgroup; fi`);
  // The repository (the simulator's binary, the coordinator's source) must be visible at the same
  // path in every machine, also when it was cloned under a directory the node gets its own copy of
  // (CI may clone under /tmp): park a bind of it in the node's /var overlay, then move it into place.
  for (const target of late) L.push(bind(path.join(d.fs, target), target));
  if (hidden) L.push(`mkdir -p ${shq(REPO_ROOT)}`, `mount --move ${REPO_PARK} ${shq(REPO_ROOT)}`);
  return `set -e\n${L.join("\n")}\n`;
}

/** The repository this harness runs from. */
export const REPO_ROOT = path.resolve(import.meta.dirname, "../../../..");
const REPO_PARK = "/var/.muster-world-repo";

function bind(source: string, target: string): string {
  return `mount --bind ${shq(source)} ${shq(target)}`;
}

/**
 * Host path behind an in-node path: the bind source for BIND_DIRS/BIND_FILES, the overlay's upper
 * copy for a file the node created or changed under /etc, /opt, /usr or /var, else the host path.
 */
export function hostPathOf(id: string, node: string, inNode: string, systemctl?: string): string {
  if (!path.isAbsolute(inNode)) throw new Error(`world: node.path needs an absolute path, got "${inNode}"`);
  let p = path.resolve(inNode);
  if (isUnder(p, "/var/run")) p = path.join("/run", path.relative("/var/run", p)); // a symlink on most hosts
  const d = nodeDirs(id, node);
  if (systemctl && p === SYSTEMCTL_PATH) return systemctl;
  if ([...BIND_FILES, ...BIND_DIRS].some((t) => isUnder(p, t))) return path.join(d.fs, p);
  const ov = overlayDirs().find((dir) => isUnder(p, dir));
  if (ov) {
    const upper = path.join(d.overlay, overlayKey(ov), "upper", path.relative(ov, p));
    if (fs.existsSync(upper)) return upper;
  }
  return p;
}

function overlayKey(dir: string): string {
  return dir.slice(1).replaceAll("/", "_");
}

function topLevelMountsBelow(dir: string): string[] {
  const below = mounts()
    .map((m) => m.target)
    .filter((t) => t !== dir && isUnder(t, dir));
  return [...new Set(below)].filter((t) => !below.some((o) => o !== t && isUnder(t, o)));
}

function isRealDir(p: string): boolean {
  try {
    return fs.lstatSync(p).isDirectory();
  } catch {
    return false;
  }
}
