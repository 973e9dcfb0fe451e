import { mkdir, readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { type Arch, extractRuntime, fetchRuntime, type RuntimeSource } from "./node-runtime.ts";
import { buildMtime, bundleJs, launcher, type Packed, packIfChanged, writeAtomic } from "./pack.ts";
import type { TarEntry } from "./tar.ts";

// Builds dist/muster-coordinator-linux-<arch>.tar.gz, unpacked to /usr/lib/muster on a coordinator
// host (docs/operations.md): the coordinator and the operator CLI on the pinned Node.js, plus
// the agent bundles it serves to nodes, so that host needs no Node.js or checkout either.
//   bin/{node,muster-coordinator,muster}  lib/{muster-coordinator.mjs,muster.mjs,bootstrap.sh.tmpl}
//   artifacts/{SHA256SUMS,VERSION,muster-agent-linux-*.tar.gz}  console/{index.html,assets/*}
//   share/{muster-coordinator.service,node-LICENSE}
// The coordinator finds artifacts/ and console/ by walking up from lib/ (delivery/artifacts.ts
// defaultArtifactsDir, http/routes/console.ts defaultConsoleDir)
// and reads lib/bootstrap.sh.tmpl next to itself (delivery/bootstrap-script.ts).

const FORMAT = "muster-coordinator-bundle/1";
const COORDINATOR = launcher("muster-coordinator", "muster-coordinator.mjs");
const OPERATOR = launcher("muster", "muster.mjs");

export interface CoordinatorBundleOptions extends RuntimeSource {
  root: string;
  outDir: string;
  /** dist/artifacts, already built: embedded as artifacts/ */
  artifactsDir: string;
  /** dist/console, already built: embedded as console/ (the web console served at /) */
  consoleDir: string;
  cacheDir: string;
  nodeVersion: string;
  version: string;
  arches: readonly Arch[];
}

export type CoordinatorBundle = Packed & { arch: Arch };

export const coordinatorFileName = (arch: Arch) => `muster-coordinator-linux-${arch}.tar.gz`;

export async function buildCoordinatorBundles(opts: CoordinatorBundleOptions): Promise<CoordinatorBundle[]> {
  const fetch = opts.fetch ?? fetchRuntime;
  const extract = opts.extract ?? extractRuntime;
  const src = (p: string) => path.join(opts.root, "packages", p);
  await mkdir(opts.outDir, { recursive: true });
  const [coordinatorJs, operatorJs, template, unit] = await Promise.all([
    bundleJs(src("coordinator/src/server/cli.ts")),
    bundleJs(src("cli/src/bin.ts")),
    readFile(src("coordinator/src/transport/delivery/bootstrap.sh.tmpl")),
    readFile(path.join(opts.root, "systemd/muster-coordinator.service")),
  ]);
  const artifactNames = (await readdir(opts.artifactsDir)).filter((n) => !n.startsWith(".")).sort();
  const artifacts = await Promise.all(
    artifactNames.map(async (name) => ({ name, data: await readFile(path.join(opts.artifactsDir, name)) })),
  );
  const consoleAssets = (await readdir(path.join(opts.consoleDir, "assets"))).filter(
    (n) => !n.startsWith("."),
  );
  const consoleFiles = await Promise.all(
    ["index.html", ...consoleAssets.sort().map((n) => `assets/${n}`)].map(async (name) => ({
      name,
      data: await readFile(path.join(opts.consoleDir, name)),
    })),
  );
  const version = Buffer.from(`${opts.version}\n`);
  const file = (name: string, mode: number, data: Buffer | string): TarEntry => ({
    name,
    type: "file",
    mode,
    data: Buffer.isBuffer(data) ? data : Buffer.from(data),
  });
  const dir = (name: string): TarEntry => ({ name, type: "dir", mode: 0o755 });

  const bundles = await Promise.all(
    opts.arches.map(async (arch): Promise<CoordinatorBundle> => {
      const runtime = await fetch(arch, opts.nodeVersion, opts.cacheDir);
      const inputs = [
        FORMAT,
        runtime.integrity,
        coordinatorJs,
        operatorJs,
        template,
        unit,
        COORDINATOR,
        OPERATOR,
      ];
      inputs.push(version, ...artifacts.flatMap((a) => [a.name, a.data]));
      inputs.push(...consoleFiles.flatMap((f) => [`console/${f.name}`, f.data]));
      const packed = await packIfChanged(
        path.join(opts.outDir, coordinatorFileName(arch)),
        inputs,
        buildMtime(),
        async () => {
          const { node, license } = await extract(runtime);
          return [
            file("VERSION", 0o644, version),
            dir("bin"),
            file("bin/node", 0o755, node),
            file("bin/muster-coordinator", 0o755, COORDINATOR),
            file("bin/muster", 0o755, OPERATOR),
            dir("lib"),
            file("lib/muster-coordinator.mjs", 0o644, coordinatorJs),
            file("lib/muster.mjs", 0o644, operatorJs),
            file("lib/bootstrap.sh.tmpl", 0o644, template),
            dir("artifacts"),
            ...artifacts.map((a) => file(`artifacts/${a.name}`, 0o644, a.data)),
            dir("console"),
            dir("console/assets"),
            ...consoleFiles.map((f) => file(`console/${f.name}`, 0o644, f.data)),
            dir("share"),
            file("share/muster-coordinator.service", 0o644, unit),
            file("share/node-LICENSE", 0o644, license),
          ];
        },
      );
      return { ...packed, arch };
    }),
  );
  const sums = bundles.map((b) => `${b.sha256}  ${path.basename(b.file)}\n`).sort();
  await writeAtomic(path.join(opts.outDir, "SHA256SUMS"), sums.join(""));
  return bundles;
}
