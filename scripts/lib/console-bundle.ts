import { mkdir, readdir, rm } from "node:fs/promises";
import path from "node:path";
import { gzipSync } from "node:zlib";
import * as esbuild from "esbuild";
import { readText, writeAtomic } from "./pack.ts";

// Builds the web console (packages/console) into dist/console: assets/app-<hash>.{js,css}, named by
// content so the coordinator serves them as immutable, and index.html (served no-cache) naming them.
// Files whose content did not change are not rewritten; assets of earlier builds are removed.

export interface ConsoleBuildOptions {
  /** packages/console/src/ui/main.tsx */
  entry: string;
  /** dist/console */
  outDir: string;
}

export interface ConsoleAsset {
  name: string;
  bytes: number;
  gzipBytes: number;
}

export interface ConsoleBuild {
  index: string;
  assets: ConsoleAsset[];
  /** Bytes a browser downloads on first load (gzip, as the coordinator serves them uncompressed: an upper bound). */
  gzipTotal: number;
}

/** What browsers the console is written for: <dialog>, CSS nesting-free grid, ES2022. */
const TARGET = ["chrome111", "firefox115", "safari16.4", "edge111"];

export function indexHtml(js: string, css: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<meta name="color-scheme" content="light dark">
<title>muster console</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="./assets/${css}">
<script type="module" src="./assets/${js}"></script>
</head>
<body>
<noscript>The muster console needs JavaScript.</noscript>
<div id="app"></div>
</body>
</html>
`;
}

async function writeIfChanged(file: string, data: Buffer | string): Promise<void> {
  const text = Buffer.isBuffer(data) ? data.toString("utf8") : data;
  if ((await readText(file)) === text) return;
  await writeAtomic(file, data);
}

export async function buildConsole(opts: ConsoleBuildOptions): Promise<ConsoleBuild> {
  const assetsDir = path.join(opts.outDir, "assets");
  const result = await esbuild.build({
    entryPoints: { app: opts.entry },
    bundle: true,
    minify: true,
    format: "esm",
    platform: "browser",
    target: TARGET,
    jsx: "automatic",
    jsxImportSource: "preact",
    entryNames: "[name]-[hash]",
    assetNames: "[name]-[hash]",
    outdir: assetsDir,
    write: false,
    legalComments: "eof",
    charset: "utf8",
    logLevel: "warning",
  });
  const outputs = result.outputFiles.map((f) => ({
    name: path.basename(f.path),
    data: Buffer.from(f.contents),
  }));
  const js = outputs.find((o) => o.name.endsWith(".js"));
  const css = outputs.find((o) => o.name.endsWith(".css"));
  if (!js || !css)
    throw new Error(`esbuild did not produce the console's js and css (got ${outputs.map((o) => o.name)})`);

  await mkdir(assetsDir, { recursive: true });
  for (const o of outputs) await writeIfChanged(path.join(assetsDir, o.name), o.data);
  const keep = new Set(outputs.map((o) => o.name));
  for (const name of await readdir(assetsDir)) {
    if (!keep.has(name)) await rm(path.join(assetsDir, name), { force: true });
  }
  // Written last: a coordinator serving this dir meanwhile still names assets that exist.
  const index = path.join(opts.outDir, "index.html");
  await writeIfChanged(index, indexHtml(js.name, css.name));

  const assets = outputs.map((o) => ({
    name: o.name,
    bytes: o.data.length,
    gzipBytes: gzipSync(o.data, { level: 9 }).length,
  }));
  return { index, assets, gzipTotal: assets.reduce((sum, a) => sum + a.gzipBytes, 0) };
}
