import { createHash } from "node:crypto";
import { readFile, rename, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { gzip } from "node:zlib";
import * as esbuild from "esbuild";
import { createTar, type TarEntry } from "./tar.ts";

// Shared by the agent and coordinator bundles: bundling TypeScript into one ESM file, the launcher
// script, and packing a reproducible .tar.gz only when its inputs changed.

const gzipAsync = promisify(gzip);

/** Fixed mtime for every entry (2000-01-01), unless SOURCE_DATE_EPOCH says otherwise. */
export const DEFAULT_MTIME = 946684800;
// Level 6: a third of level 9's time for a bundle 0.6% larger (the Node binary dominates).
export const GZIP_LEVEL = 6;

export const sha256 = (data: Buffer | string) => createHash("sha256").update(data).digest("hex");

// esbuild turns require() calls of bundled CommonJS (systeminformation, pino) into a shim that needs a
// real `require` in ESM output; createRequire provides one bound to the bundle's own location.
const BANNER = [
  'import { createRequire as __musterCreateRequire } from "node:module";',
  "const require = __musterCreateRequire(import.meta.url);",
].join("\n");

export async function bundleJs(entry: string): Promise<Buffer> {
  const result = await esbuild.build({
    entryPoints: [entry],
    bundle: true,
    platform: "node",
    target: "node24",
    format: "esm",
    write: false,
    outfile: "bundle.mjs",
    banner: { js: BANNER },
    // ws loads these native speed-ups only if present; nothing here needs them.
    external: ["bufferutil", "utf-8-validate"],
    legalComments: "eof",
    logLevel: "warning",
  });
  const out = result.outputFiles[0];
  if (!out) throw new Error(`esbuild produced no output for ${entry}`);
  return Buffer.from(out.contents);
}

/**
 * The bin/<name> launcher: runs lib/<mjs> on the bundled bin/node. It resolves symlinks to itself
 * (e.g. /usr/local/bin/muster-agent) so the runtime next to the real file is found, whatever the
 * caller's cwd, CDPATH or spaces in the path.
 */
export function launcher(name: string, mjs: string, nodeFlags: readonly string[] = []): string {
  const flags = nodeFlags.map((f) => `${f} `).join("");
  return `#!/bin/sh
# ${name}: runs lib/${mjs} on the bundled Node.js runtime.
set -eu
self=$0
while [ -L "$self" ]; do
  link=$(readlink "$self")
  case $link in
    /*) self=$link ;;
    *) self=$(dirname -- "$self")/$link ;;
  esac
done
bin=$(CDPATH='' cd -- "$(dirname -- "$self")" && pwd -P)
exec "$bin/node" ${flags}"$bin/../lib/${mjs}" "$@"
`;
}

export async function writeAtomic(file: string, data: Buffer | string): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, data);
  await rename(tmp, file);
}

export async function readText(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, "utf8");
  } catch {
    return undefined;
  }
}

export interface Packed {
  file: string;
  sha256: string;
  size: number;
  /** false when the inputs were unchanged and the existing file was kept */
  packed: boolean;
}

export function buildMtime(): number {
  return Number(process.env["SOURCE_DATE_EPOCH"]) || DEFAULT_MTIME;
}

/**
 * Writes `file` from `entries()` unless a stamp next to it says it was made from the same `inputs`
 * (a digest of everything that goes in). `entries` is only called when packing is needed, so slow
 * inputs (extracting the Node runtime) are skipped too.
 */
export async function packIfChanged(
  file: string,
  inputs: readonly (string | number | Buffer)[],
  mtime: number,
  entries: () => Promise<TarEntry[]>,
): Promise<Packed> {
  const stampFile = path.join(path.dirname(file), `.${path.basename(file)}.inputs`);
  const key = sha256(
    [GZIP_LEVEL, mtime, ...inputs].map((i) => (Buffer.isBuffer(i) ? sha256(i) : String(i))).join("\n"),
  );
  // The stamp holds the inputs digest, then the output's sha256 and size (saves re-hashing 100+ MiB).
  const existing = await stat(file).catch(() => undefined);
  const [stampKey, stampSha, stampSize] = ((await readText(stampFile)) ?? "").trim().split(" ");
  if (existing && stampKey === key && stampSha && Number(stampSize) === existing.size) {
    return { file, sha256: stampSha, size: existing.size, packed: false };
  }
  const tgz = await gzipAsync(createTar(await entries(), mtime), { level: GZIP_LEVEL });
  await writeAtomic(file, tgz);
  await writeAtomic(stampFile, `${key} ${sha256(tgz)} ${tgz.length}\n`);
  return { file, sha256: sha256(tgz), size: tgz.length, packed: true };
}
