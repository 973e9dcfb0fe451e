// Builds an air-gap artifact directory shaped like an RKE2 release (docs/rke2-behaviour.md "Installer"):
// rke2.linux-<arch>.tar.gz, sha256sum-<arch>.txt and optionally rke2-images.linux-<arch>.tar.zst.
// The tarball's bin/rke2 is a sh wrapper that runs the simulator (test/sim/rke2.ts) on the repo's Node 24.
import { createHash } from "node:crypto";
import { chmod, copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";
import { nodeBinary, SIM_DIR, shQuote } from "./paths.ts";

export type Arch = "amd64" | "arm64" | "s390x";

export interface ArtifactOptions {
  arch?: Arch;
  version?: string;
  /** Also write a small dummy rke2-images.linux-<arch>.tar.zst (default true). */
  images?: boolean;
}

export interface Artifacts {
  dir: string;
  arch: Arch;
  version: string;
  tarball: string;
  checksums: string;
  images: string | null;
}

export const DEFAULT_RKE2_VERSION = "v1.33.5+rke2r1";

const BUNDLE_FILES = [
  "bin/rke2-killall.sh",
  "bin/rke2-uninstall.sh",
  "lib/systemd/system/rke2-server.service",
  "lib/systemd/system/rke2-agent.service",
];

/** A stable stand-in for the git commit real builds print next to the version. */
export function simCommit(version: string): string {
  return createHash("sha1").update(`rke2-sim ${version}`).digest("hex");
}

function rke2Wrapper(version: string): string {
  return [
    "#!/bin/sh",
    "# rke2 (simulator): the muster test world's stand-in for the rke2 binary, built by packages/rke2-sim/src/artifacts.ts.",
    "# The release version is recorded here so `rke2 --version` reports it like a real build.",
    `RKE2_SIM_VERSION=${shQuote(version)}`,
    `RKE2_SIM_COMMIT=${shQuote(simCommit(version))}`,
    "export RKE2_SIM_VERSION RKE2_SIM_COMMIT",
    "# Answered here: real rke2 prints its version in milliseconds, and callers (muster's install",
    "# check) must not pay a Node start-up the real binary does not have.",
    'case "$1" in --version | -v | version)',
    '  printf \'rke2 version %s (%s)\\ngo version n/a (rke2 simulator)\\n\' "$RKE2_SIM_VERSION" "$RKE2_SIM_COMMIT"',
    "  exit 0 ;;",
    "esac",
    `exec ${shQuote(nodeBinary())} ${shQuote(path.join(SIM_DIR, "rke2.ts"))} "$@"`,
    "",
  ].join("\n");
}

async function sha256File(file: string): Promise<string> {
  return createHash("sha256")
    .update(await readFile(file))
    .digest("hex");
}

// Fixed owner and mtime so the same inputs give the same tarball bytes (and checksum).
const TAR_FLAGS = ["--owner=0", "--group=0", "--numeric-owner", "--mtime=2025-09-30 00:00Z", "--sort=name"];

export async function buildArtifacts(outDir: string, options: ArtifactOptions = {}): Promise<Artifacts> {
  const arch = options.arch ?? "amd64";
  const version = options.version ?? DEFAULT_RKE2_VERSION;
  const suffix = `linux-${arch}`;
  await mkdir(outDir, { recursive: true });
  const stage = await mkdtemp(path.join(tmpdir(), "rke2-sim-bundle-"));
  try {
    await mkdir(path.join(stage, "bin"), { recursive: true });
    await mkdir(path.join(stage, "lib/systemd/system"), { recursive: true });
    await mkdir(path.join(stage, "share/rke2"), { recursive: true });
    for (const rel of BUNDLE_FILES) await copyFile(path.join(SIM_DIR, "bundle", rel), path.join(stage, rel));
    await writeFile(path.join(stage, "bin/rke2"), rke2Wrapper(version));
    await writeFile(path.join(stage, "share/rke2/version"), `${version}\n`);
    for (const rel of ["bin/rke2", "bin/rke2-killall.sh", "bin/rke2-uninstall.sh"]) {
      await chmod(path.join(stage, rel), 0o755);
    }
    const tarball = path.join(outDir, `rke2.${suffix}.tar.gz`);
    await execa("tar", ["-czf", tarball, ...TAR_FLAGS, "-C", stage, "bin", "lib", "share"]);

    let images: string | null = null;
    if (options.images ?? true) {
      const imgStage = path.join(stage, "images");
      await mkdir(imgStage);
      await writeFile(path.join(imgStage, "README"), `dummy air-gap image bundle for rke2-sim ${version}\n`);
      const tar = path.join(stage, "images.tar");
      await execa("tar", ["-cf", tar, ...TAR_FLAGS, "-C", imgStage, "README"]);
      // .tar.zst like current releases; gzip (which the installer also accepts) where zstd is missing.
      const zstd = await execa(
        "zstd",
        ["-q", "-f", tar, "-o", path.join(outDir, `rke2-images.${suffix}.tar.zst`)],
        {
          reject: false,
        },
      );
      if (zstd.exitCode === 0) {
        images = path.join(outDir, `rke2-images.${suffix}.tar.zst`);
      } else {
        images = path.join(outDir, `rke2-images.${suffix}.tar.gz`);
        await execa("gzip", ["-n", "-f", "-k", tar]);
        await copyFile(`${tar}.gz`, images);
      }
    }

    const lines = [`${await sha256File(tarball)}  ${path.basename(tarball)}`];
    if (images) lines.push(`${await sha256File(images)}  ${path.basename(images)}`);
    const checksums = path.join(outDir, `sha256sum-${arch}.txt`);
    await writeFile(checksums, `${lines.join("\n")}\n`);
    return { dir: outDir, arch, version, tarball, checksums, images };
  } finally {
    await rm(stage, { recursive: true, force: true });
  }
}
