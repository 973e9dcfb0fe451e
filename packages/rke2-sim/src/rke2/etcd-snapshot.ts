// `rke2 etcd-snapshot save|ls|delete` on the node's real etcd (docs/rke2-behaviour.md#snapshots-and-restore):
// `etcdctl snapshot save` into etcd-snapshot-dir (default <data-dir>/server/db/snapshots), named like
// RKE2's: on-demand-<node>-<unix time>, or <--name>-<node>-<unix time>. `ls` prints RKE2's table
// (Name, Location, Size, Created). With etcd-s3 (config.yaml), each saved snapshot is also uploaded
// to the bucket over the real S3 protocol (etcd-s3.ts), `ls` lists the bucket too (s3:// locations),
// `delete` removes both copies, and retention (etcd-snapshot-retention, default 5) prunes both after
// every save: the oldest snapshots with the same <prefix>-<node>- beyond the count go.
import { mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { loadValues, loopbackFor, resolveConfig, type SimConfig, type Values } from "./config.ts";
import type { Knobs } from "./env.ts";
import { clientURLFor } from "./etcd-process.ts";
import {
  deleteS3Snapshots,
  listS3Snapshots,
  type S3Settings,
  s3Location,
  s3Settings,
  uploadSnapshot,
} from "./etcd-s3.ts";
import { BOOL_KEYS } from "./flags.ts";
import { FatalError, log } from "./log.ts";

export function snapshotDir(dataDir: string, values: Values): string {
  const dir = values.get("etcd-snapshot-dir");
  return typeof dir === "string" && dir !== "" ? dir : path.join(dataDir, "server", "db", "snapshots");
}

export interface SnapshotFile {
  name: string;
  location: string;
  size: number;
  created: string;
}

export function listSnapshots(dir: string): SnapshotFile[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .filter((n) => !n.startsWith(".") && statSync(path.join(dir, n)).isFile())
    .map((n) => {
      const st = statSync(path.join(dir, n));
      return {
        name: n,
        location: `file://${path.join(dir, n)}`,
        size: st.size,
        created: st.mtime.toISOString().replace(/\.\d+Z$/, "Z"),
      };
    })
    .sort((a, b) => a.created.localeCompare(b.created) || a.name.localeCompare(b.name));
}

/** RKE2's `etcd-snapshot ls` table: columns padded to their widest cell. */
export function formatSnapshotTable(files: SnapshotFile[]): string {
  const rows = [
    ["Name", "Location", "Size", "Created"],
    ...files.map((f) => [f.name, f.location, String(f.size), f.created]),
  ];
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i]!.length)));
  return `${rows.map((r) => r.map((c, i) => (i < 3 ? c.padEnd(widths[i]!) : c)).join(" ")).join("\n")}\n`;
}

/** Splits the subcommand's own flags (--name, --dir) from the config flags rke2 server also takes. */
function ownFlags(args: string[], own: string[]): { flags: Map<string, string>; rest: string[] } {
  const flags = new Map<string, string>();
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const body = a.replace(/^--?/, "");
    const eq = body.indexOf("=");
    const key = eq >= 0 ? body.slice(0, eq) : body;
    if (a.startsWith("-") && own.includes(key)) {
      const value = eq >= 0 ? body.slice(eq + 1) : args[++i];
      if (value === undefined) throw new FatalError(`flag needs an argument: -${key}`);
      flags.set(key, value);
    } else rest.push(a);
  }
  return { flags, rest };
}

/** Snapshot names (delete) apart from config flags; a flag without `=` takes the next word unless boolean. */
function splitPositionals(args: string[]): { positional: string[]; configFlags: string[] } {
  const positional: string[] = [];
  const configFlags: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith("-")) {
      positional.push(a);
      continue;
    }
    configFlags.push(a);
    const key = a.replace(/^--?/, "");
    if (!key.includes("=") && !BOOL_KEYS.has(key) && i + 1 < args.length) configFlags.push(args[++i]!);
  }
  return { positional, configFlags };
}

export async function runEtcdSnapshot(argv: string[], knobs: Knobs): Promise<void> {
  const [verb, ...args] = argv;
  const { flags, rest } = ownFlags(args, ["name", "dir", "etcd-snapshot-name"]);
  const { positional, configFlags } = splitPositionals(rest);
  const { values } = loadValues("server", configFlags);
  const cfg = resolveConfig("server", values);
  const dir = flags.get("dir") ?? snapshotDir(cfg.dataDir, values);
  const s3 = s3Settings(values);
  if (verb === "save") {
    const prefix = flags.get("name") ?? flags.get("etcd-snapshot-name") ?? "on-demand";
    await saveSnapshot({ cfg, values, knobs, dir, prefix, s3 });
    return;
  }
  if (verb === "ls" || verb === "list") {
    const remote = s3 ? (await listS3Snapshots(s3)).map((o) => s3Row(s3, o)) : [];
    process.stdout.write(formatSnapshotTable([...listSnapshots(dir), ...remote]));
    return;
  }
  if (verb === "delete" || verb === "rm") {
    if (positional.length === 0) throw new FatalError("no snapshots given for removal");
    for (const name of positional) {
      if (name.includes("/")) throw new FatalError(`invalid snapshot name ${name}`);
      const file = path.join(dir, name);
      rmSync(file, { force: true });
      log.info(`Snapshot ${name} deleted.`);
    }
    if (s3) await deleteS3Snapshots(s3, positional);
    return;
  }
  throw new FatalError(`No help topic for 'etcd-snapshot ${verb ?? ""}'`);
}

function s3Row(s3: S3Settings, o: { name: string; size: number; created: Date }): SnapshotFile {
  return {
    name: o.name,
    location: s3Location(s3, o.name),
    size: o.size,
    created: o.created.toISOString().replace(/\.\d+Z$/, "Z"),
  };
}

export interface SaveInput {
  cfg: SimConfig;
  values: Values;
  knobs: Knobs;
  dir: string;
  prefix: string;
  s3: S3Settings | null;
}

/** Retention: how many snapshots of one <prefix>-<node>- series are kept (RKE2's default 5). */
function retentionOf(values: Values): number {
  const v = Number(values.get("etcd-snapshot-retention") ?? 5);
  return Number.isInteger(v) && v >= 1 ? v : 5;
}

/** The names of a series beyond the newest `keep` (names end in their unix time). */
export function prunable(names: string[], series: string, keep: number): string[] {
  const time = (n: string) => Number(n.slice(series.length));
  const mine = names.filter((n) => n.startsWith(series) && /^\d+$/.test(n.slice(series.length)));
  return mine.sort((a, b) => time(b) - time(a) || b.localeCompare(a)).slice(keep);
}

/** `etcdctl snapshot save`, the S3 upload when configured, then retention on both. Returns the name. */
export async function saveSnapshot(input: SaveInput): Promise<string> {
  const { cfg, values, knobs, dir, prefix, s3 } = input;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const series = `${prefix}-${cfg.nodeName}-`;
  const name = `${series}${Math.floor(Date.now() / 1000)}`;
  const file = path.join(dir, name);
  const endpoint = clientURLFor(loopbackFor(cfg.nodeIP));
  const res = await execa(knobs.etcdctlBin, [`--endpoints=${endpoint}`, "snapshot", "save", file], {
    reject: false,
    env: { ETCDCTL_API: "3" },
  });
  if (res.exitCode !== 0) {
    rmSync(`${file}.part`, { force: true });
    throw new FatalError(`etcd-snapshot error: ${String(res.stderr).trim().split("\n").pop()}`);
  }
  if (s3) {
    log.info(`Saving etcd snapshot ${name} to S3`);
    await uploadSnapshot(s3, name, file);
    log.info(`S3 upload complete for ${name}`);
  }
  const keep = retentionOf(values);
  for (const old of prunable(
    listSnapshots(dir).map((f) => f.name),
    series,
    keep,
  )) {
    rmSync(path.join(dir, old), { force: true });
    log.info(`Removing local snapshot ${old} (retention ${keep})`);
  }
  if (s3) {
    const old = prunable(
      (await listS3Snapshots(s3)).map((o) => o.name),
      series,
      keep,
    );
    await deleteS3Snapshots(s3, old);
    for (const o of old) log.info(`Removing S3 snapshot ${o} (retention ${keep})`);
  }
  log.info(`Snapshot ${name} saved.`);
  return name;
}
