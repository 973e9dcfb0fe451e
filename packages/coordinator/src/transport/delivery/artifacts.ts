import { readFileSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { AgentBundleMissing } from "@muster/shared";
import { ARCHES, type Arch, renderBootstrapScript } from "./bootstrap-script.ts";

// The agent bundles `npm run build` writes to dist/artifacts: muster-agent-linux-<arch>.tar.gz, a
// sha256sum-compatible SHA256SUMS (the only files ever served) and VERSION.

export const SUMS_FILE = "SHA256SUMS";
export const VERSION_FILE = "VERSION";
export const bundleName = (arch: Arch) => `muster-agent-linux-${arch}.tar.gz`;

export interface Artifacts {
  dir: string;
  /** file name -> sha256 hex, exactly as listed in SHA256SUMS */
  files: Map<string, string>;
  checksums: Partial<Record<Arch, string>>;
  agentVersion: string;
}

// A listed name must be a plain file name: no directory part, no dot-file, nothing a shell or a URL
// would read differently.
const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const SUMS_LINE = /^([a-f0-9]{64}) [ *]([^\n]+)$/;

export function parseSha256Sums(text: string): Map<string, string> {
  const files = new Map<string, string>();
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    const m = SUMS_LINE.exec(line);
    if (!m || !SAFE_NAME.test(m[2]!))
      throw new Error(`${SUMS_FILE}: cannot read line ${JSON.stringify(line)}`);
    files.set(m[2]!, m[1]!);
  }
  return files;
}

/** Reads an artifacts dir. A missing dir or SHA256SUMS yields an empty set (nothing to serve). */
export function loadArtifacts(dir: string): Artifacts {
  let sums = "";
  try {
    sums = readFileSync(path.join(dir, SUMS_FILE), "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  let agentVersion = "0.0.0";
  try {
    agentVersion = readFileSync(path.join(dir, VERSION_FILE), "utf8").trim();
  } catch {}
  const files = parseSha256Sums(sums);
  const checksums: Partial<Record<Arch, string>> = {};
  for (const arch of ARCHES) {
    const sum = files.get(bundleName(arch));
    if (sum) checksums[arch] = sum;
  }
  return { dir, files, checksums, agentVersion };
}

/**
 * Re-reads the artifacts whenever SHA256SUMS changes on disk, so a rebuild is served (and the
 * bootstrap script names the new checksums) without restarting the coordinator.
 */
export function artifactsCache(dir: string): () => Artifacts {
  let stamp = "";
  let current: Artifacts | undefined;
  return () => {
    let next = "missing";
    try {
      const st = statSync(path.join(dir, SUMS_FILE));
      next = `${st.mtimeMs}:${st.size}:${st.ino}`;
    } catch {}
    if (current === undefined || next !== stamp) {
      current = loadArtifacts(dir);
      stamp = next;
    }
    return current;
  };
}

/**
 * Where the bundles are: walks up from this module to the first dir holding `artifacts/SHA256SUMS`
 * (an installed coordinator, /usr/lib/muster/artifacts) or `dist/artifacts/SHA256SUMS` (a repo
 * checkout after `npm run build`). Falls back to the repo path, which then serves nothing.
 */
export function defaultArtifactsDir(from: string = fileURLToPath(import.meta.url)): string {
  let dir = path.dirname(from);
  for (;;) {
    for (const candidate of [path.join(dir, "artifacts"), path.join(dir, "dist", "artifacts")]) {
      try {
        if (statSync(path.join(candidate, SUMS_FILE)).isFile()) return candidate;
      } catch {}
    }
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return path.resolve(fileURLToPath(new URL("../../../../../dist/artifacts", import.meta.url)));
}

export interface BootstrapProviderOptions {
  /** A function when the URL is known only after listen (port 0), as app.ts's publicUrl. */
  coordinatorUrl: string | (() => string);
  pin: string;
  artifactsDir: string;
}

/**
 * `bootstrapScript` provider for app.ts: renders /v1/bootstrap.sh from the current artifacts, and
 * answers 503 UNAVAILABLE (AgentBundleMissing) while no agent bundle has been built.
 */
export function bootstrapScriptProvider(opts: BootstrapProviderOptions): () => string {
  const artifacts = artifactsCache(opts.artifactsDir);
  let key = "";
  let script = "";
  return () => {
    const a = artifacts();
    if (a.checksums.amd64 === undefined && a.checksums.arm64 === undefined) {
      throw new AgentBundleMissing(opts.artifactsDir);
    }
    const url = typeof opts.coordinatorUrl === "string" ? opts.coordinatorUrl : opts.coordinatorUrl();
    const next = `${url} ${a.checksums.amd64}:${a.checksums.arm64}:${a.agentVersion}`;
    if (next !== key) {
      const { pin } = opts;
      script = renderBootstrapScript({
        coordinatorUrl: url,
        pin,
        checksums: a.checksums,
        agentVersion: a.agentVersion,
      });
      key = next;
    }
    return script;
  };
}
