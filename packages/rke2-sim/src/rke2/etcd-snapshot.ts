// `rke2 etcd-snapshot save|ls|delete` on the node's real etcd (docs/rke2-behaviour.md#snapshots-and-restore):
// `etcdctl snapshot save` into etcd-snapshot-dir (default <data-dir>/server/db/snapshots), named like
// RKE2's: on-demand-<node>-<unix time>, or <--name>-<node>-<unix time>. `ls` prints RKE2's table
// (Name, Location, Size, Created). Local snapshots only: S3 upload is not simulated.
import { mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { loadValues, loopbackFor, resolveConfig, type Values } from "./config.ts";
import type { Knobs } from "./env.ts";
import { clientURLFor } from "./etcd-process.ts";
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
  if (verb === "save") {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const prefix = flags.get("name") ?? flags.get("etcd-snapshot-name") ?? "on-demand";
    const name = `${prefix}-${cfg.nodeName}-${Math.floor(Date.now() / 1000)}`;
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
    log.info(`Snapshot ${name} saved.`);
    return;
  }
  if (verb === "ls" || verb === "list") {
    process.stdout.write(formatSnapshotTable(listSnapshots(dir)));
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
    return;
  }
  throw new FatalError(`No help topic for 'etcd-snapshot ${verb ?? ""}'`);
}
