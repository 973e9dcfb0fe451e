import { mkdir, readFile, stat } from "node:fs/promises";
import path from "node:path";
import {
  type Arch,
  extractRuntime,
  fetchRuntime,
  type RuntimeSource,
  STRIPPED_NODE_SHA256,
  type StripResult,
  stripRuntime,
} from "./node-runtime.ts";
import { buildMtime, bundleJs, launcher, type Packed, packIfChanged, readText, writeAtomic } from "./pack.ts";

// Builds dist/artifacts/muster-agent-linux-<arch>.tar.gz: the agent bundled into one ESM file plus
// the pinned Node.js runtime, so a node needs nothing but the tarball. Layout inside the tarball:
//   VERSION  bin/muster-agent  bin/node  lib/muster-agent.mjs  share/muster-agent.service  share/node-LICENSE

/** Bumped whenever the tarball layout or packing changes, so old stamps stop matching. */
const FORMAT = "muster-agent-bundle/2";
/**
 * V8 flags the agent runs with. A 1 MiB young-generation semi-space (Node's default is 16 MiB on
 * 64-bit) keeps the idle daemon ~9 MiB smaller; the agent allocates little, so the extra scavenges
 * cost nothing measurable (npm run bench:agent -- --node-flags=... compares). On the command line,
 * not NODE_OPTIONS, so the installer and other children never inherit them.
 */
export const AGENT_NODE_FLAGS = ["--max-semi-space-size=1"] as const;
export const WRAPPER = launcher("muster-agent", "muster-agent.mjs", AGENT_NODE_FLAGS);

export interface AgentBundleOptions extends RuntimeSource {
  /** packages/agent/src/cli.ts (tests pass a placeholder). */
  entry: string;
  outDir: string;
  cacheDir: string;
  nodeVersion: string;
  agentVersion: string;
  unitFile: string;
  arches: readonly Arch[];
  mtime?: number;
  /** Strips bin/node (default stripRuntime: only to the hash STRIPPED_NODE_SHA256 records). */
  strip?: (node: Buffer, arch: Arch, version: string) => Promise<StripResult>;
}

/** `stripped`/`stripNote` are known only when the tarball was packed this time. */
export type BundleResult = Packed & { arch: Arch; stripped?: boolean; stripNote?: string };

export interface BuildResult {
  js: { bytes: number };
  bundles: BundleResult[];
  sumsFile: string;
}

export const bundleFileName = (arch: Arch) => `muster-agent-linux-${arch}.tar.gz`;

export async function buildAgentBundles(opts: AgentBundleOptions): Promise<BuildResult> {
  const defaultStrip = (node: Buffer, arch: Arch, version: string) =>
    stripRuntime(node, arch, version, { workDir: opts.cacheDir });
  const fetch = opts.fetch ?? fetchRuntime;
  const extract = opts.extract ?? extractRuntime;
  const mtime = opts.mtime ?? buildMtime();
  await mkdir(opts.outDir, { recursive: true });
  const js = await bundleJs(opts.entry);
  const unit = await readFile(opts.unitFile);
  const version = Buffer.from(`${opts.agentVersion}\n`);

  const bundles = await Promise.all(
    opts.arches.map(async (arch): Promise<BundleResult> => {
      const runtime = await fetch(arch, opts.nodeVersion, opts.cacheDir);
      const file = path.join(opts.outDir, bundleFileName(arch));
      const strippedHash = STRIPPED_NODE_SHA256[`${opts.nodeVersion}-${arch}`] ?? "unstripped";
      const inputs = [FORMAT, runtime.integrity, strippedHash, js, unit, WRAPPER, version];
      let strip: StripResult | undefined;
      const packed = await packIfChanged(file, inputs, mtime, async () => {
        const extracted = await extract(runtime);
        strip = await (opts.strip ?? defaultStrip)(extracted.node, arch, opts.nodeVersion);
        const { node } = strip;
        const { license } = extracted;
        return [
          { name: "VERSION", type: "file", mode: 0o644, data: version },
          { name: "bin", type: "dir", mode: 0o755 },
          { name: "bin/muster-agent", type: "file", mode: 0o755, data: Buffer.from(WRAPPER) },
          { name: "bin/node", type: "file", mode: 0o755, data: node },
          { name: "lib", type: "dir", mode: 0o755 },
          { name: "lib/muster-agent.mjs", type: "file", mode: 0o644, data: js },
          { name: "share", type: "dir", mode: 0o755 },
          { name: "share/muster-agent.service", type: "file", mode: 0o644, data: unit },
          { name: "share/node-LICENSE", type: "file", mode: 0o644, data: license },
        ];
      });
      return strip
        ? { ...packed, arch, stripped: strip.stripped, stripNote: strip.note }
        : { ...packed, arch };
    }),
  );

  // Every bundle in the directory is listed, including arches not rebuilt this time.
  const sumsFile = path.join(opts.outDir, "SHA256SUMS");
  const listed = new Map<string, string>();
  for (const line of (await readText(sumsFile))?.split("\n") ?? []) {
    const m = /^([a-f0-9]{64}) {2}(\S+)$/.exec(line);
    if (m && (await stat(path.join(opts.outDir, m[2]!)).catch(() => undefined))) listed.set(m[2]!, m[1]!);
  }
  for (const b of bundles) listed.set(path.basename(b.file), b.sha256);
  const sums = [...listed].sort(([a], [b]) => a.localeCompare(b)).map(([name, sum]) => `${sum}  ${name}\n`);
  await writeAtomic(sumsFile, sums.join(""));
  await writeAtomic(path.join(opts.outDir, "VERSION"), version);
  return { js: { bytes: js.length }, bundles, sumsFile };
}
