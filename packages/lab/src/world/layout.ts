// Names, paths and addresses of a world. Pure: no I/O.
import path from "node:path";

/** Host directory for world state: owner files, subnet leases, persistent namespace files. */
export const STATE_ROOT = process.env["MUSTER_WORLD_STATE"] ?? "/run/muster-world";
/** Host directory holding every node's files (bind sources, overlay upper dirs). */
export const FS_ROOT = process.env["MUSTER_WORLD_ROOT"] ?? "/tmp/muster-world";
/** Where `ip netns` keeps its namespace files. */
export const NETNS_DIR = "/run/netns";

/** Host directories that get a per-node copy-on-write overlay, so nothing run in a node writes to the host. */
export const OVERLAY_DIRS = ["/etc", "/opt", "/usr", "/var"] as const;

/** In-node directories replaced by a per-node directory (empty at `up`). `/run` and `/tmp` are mounted last. */
export const BIND_DIRS = [
  "/etc/default",
  "/etc/muster",
  "/etc/rancher",
  "/etc/systemd/system",
  "/opt/muster",
  "/usr/local",
  "/var/lib/muster",
  "/var/lib/rancher",
  "/run",
  "/tmp",
] as const;

/** In-node files replaced by a per-node file. */
export const BIND_FILES = ["/etc/hostname", "/etc/hosts", "/etc/machine-id"] as const;

export const SYSTEMCTL_PATH = "/usr/bin/systemctl";
export const RESERVED_NAMES = new Set(["hub", "coordinator"]);
export const COORDINATOR = "coordinator";

const NODE_NAME = /^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/;
const WORLD_ID = /^[0-9a-f]{4}$/;

export function isWorldId(s: string): boolean {
  return WORLD_ID.test(s);
}

export function checkNodeName(name: string): void {
  if (!NODE_NAME.test(name)) {
    throw new Error(
      `world: node name "${name}" must be 1-32 chars of [a-z0-9-], not starting/ending with "-"`,
    );
  }
  if (RESERVED_NAMES.has(name)) throw new Error(`world: node name "${name}" is reserved`);
}

export const netnsPrefix = (id: string): string => `mw${id}-`;
export const netnsName = (id: string, node: string): string => `${netnsPrefix(id)}${node}`;
export const hubNetns = (id: string): string => netnsName(id, "hub");

export const worldStateDir = (id: string): string => path.join(STATE_ROOT, id);
export const worldFsDir = (id: string): string => path.join(FS_ROOT, id);
export const subnetsDir = (): string => path.join(STATE_ROOT, "subnets");
export const nsFile = (id: string, node: string, kind: "mnt" | "uts"): string =>
  path.join(STATE_ROOT, id, "ns", `${node}.${kind}`);

/** Per-node host paths. */
export function nodeDirs(id: string, node: string) {
  const root = path.join(FS_ROOT, id, node);
  return {
    root,
    /** Bind sources, mirroring in-node paths: `<fs>/etc/rancher` is the node's `/etc/rancher`. */
    fs: path.join(root, "fs"),
    overlay: path.join(root, "overlay"),
    stage: path.join(root, "stage"),
  };
}

/** Addressing of world k: 10.250.k.0/24. */
export function addressing(k: number) {
  const base = `10.250.${k}`;
  return {
    subnet: `${base}.0/24`,
    prefix: 24,
    gateway: `${base}.1`,
    coordinator: `${base}.2`,
    vip: `${base}.100`,
    nodeIp: (host: number): string => `${base}.${host}`,
    base,
  };
}

/** Assigns node addresses: explicit ones are kept, others get .10, .11, ... skipping used and reserved hosts. */
export function assignIps(k: number, nodes: readonly { name: string; ip?: string | undefined }[]): string[] {
  const a = addressing(k);
  const reserved = new Set([0, 1, 2, 100, 255]);
  const used = new Set<number>();
  for (const n of nodes) {
    if (n.ip === undefined) continue;
    const host = hostPart(a.base, n.ip);
    if (host === undefined || reserved.has(host)) {
      throw new Error(`world: node ${n.name}: ip ${n.ip} must be in ${a.subnet}, not .0/.1/.2/.100/.255`);
    }
    if (used.has(host)) throw new Error(`world: node ${n.name}: ip ${n.ip} is used twice`);
    used.add(host);
  }
  let next = 10;
  return nodes.map((n) => {
    if (n.ip !== undefined) return n.ip;
    while (used.has(next) || reserved.has(next)) next++;
    if (next > 254) throw new Error(`world: too many nodes for ${a.subnet}`);
    used.add(next);
    return a.nodeIp(next);
  });
}

function hostPart(base: string, ip: string): number | undefined {
  if (!ip.startsWith(`${base}.`)) return undefined;
  const rest = ip.slice(base.length + 1);
  if (!/^\d{1,3}$/.test(rest)) return undefined;
  const n = Number(rest);
  return n <= 255 ? n : undefined;
}

/** True when `p` equals `dir` or lies below it. */
export function isUnder(p: string, dir: string): boolean {
  return p === dir || p.startsWith(dir === "/" ? "/" : `${dir}/`);
}

/** Quote for POSIX sh. */
export function shq(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}
