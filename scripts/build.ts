// npm run build: builds the web console into dist/console (served by the coordinator at /); bundles the agent with the pinned Node.js runtime into
// dist/artifacts/muster-agent-linux-{amd64,arm64}.tar.gz plus SHA256SUMS and VERSION, which the
// coordinator serves to nodes; then dist/muster-coordinator-linux-{amd64,arm64}.tar.gz (coordinator,
// operator CLI, runtime and those agent bundles) for installing a coordinator host.
// Re-runs with unchanged inputs skip the (slow) packing step.
//
// usage: node scripts/build.ts [--arch amd64,arm64] [--agent-only]
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { buildAgentBundles } from "./lib/agent-bundle.ts";
import { buildConsole } from "./lib/console-bundle.ts";
import { buildCoordinatorBundles } from "./lib/coordinator-bundle.ts";
import { type Arch, pinnedNodeVersion } from "./lib/node-runtime.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const ALL_ARCHES: readonly Arch[] = ["amd64", "arm64"];

function fail(message: string, code = 1): never {
  console.error(`build: ${message}`);
  process.exit(code);
}

function parseCli(): { arches: Arch[]; agentOnly: boolean } {
  let values: { arch?: string; help?: boolean; "agent-only"?: boolean };
  try {
    ({ values } = parseArgs({
      options: {
        arch: { type: "string" },
        "agent-only": { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    fail((err as Error).message, 2);
  }
  if (values.help) {
    console.log(
      "usage: node scripts/build.ts [--arch amd64,arm64] [--agent-only]\n\nBuilds dist/console (the web console), dist/artifacts (agent bundles) and, unless --agent-only,\ndist/muster-coordinator-*.tar.gz.",
    );
    process.exit(0);
  }
  const arches = (values.arch ?? ALL_ARCHES.join(",")).split(",").map((a) => a.trim());
  for (const a of arches) {
    if (!ALL_ARCHES.includes(a as Arch)) fail(`--arch: unknown architecture ${a} (use amd64, arm64)`, 2);
  }
  return { arches: arches as Arch[], agentOnly: values["agent-only"] === true };
}

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

async function main(): Promise<void> {
  const { arches, agentOnly } = parseCli();
  const started = performance.now();
  const readJson = (file: string) => JSON.parse(readFileSync(path.join(ROOT, file), "utf8"));
  const entry = path.join(ROOT, "packages/agent/src/cli.ts");
  if (!existsSync(entry)) fail(`agent entry point ${path.relative(ROOT, entry)} does not exist`);

  // The console first: it takes a second, and the coordinator bundle embeds it.
  const consoleDir = path.join(ROOT, "dist/console");
  const ui = await buildConsole({
    entry: path.join(ROOT, "packages/console/src/ui/main.tsx"),
    outDir: consoleDir,
  });
  const sizes = ui.assets.map((a) => `${a.name} ${kib(a.bytes)}`).join(", ");
  console.log(`build: ${path.relative(ROOT, consoleDir)}: ${sizes} (${kib(ui.gzipTotal)} gzipped)`);

  const cacheDir = path.join(ROOT, "node_modules/.cache/muster-build");
  const nodeVersion = pinnedNodeVersion(readJson("package.json"));
  const artifactsDir = path.join(ROOT, "dist/artifacts");
  const result = await buildAgentBundles({
    entry,
    outDir: artifactsDir,
    cacheDir,
    nodeVersion,
    agentVersion: readJson("packages/agent/package.json").version,
    unitFile: path.join(ROOT, "systemd/muster-agent.service"),
    arches,
  });

  console.log(`build: agent bundled into one file (${mib(result.js.bytes)})`);
  for (const b of result.bundles) {
    const what = b.packed ? "packed" : "unchanged";
    console.log(`build: ${path.relative(ROOT, b.file)}  ${mib(b.size)}  sha256 ${b.sha256}  (${what})`);
    if (b.stripped === false) console.warn(`build: ${b.arch}: bin/node not stripped: ${b.stripNote}`);
  }
  console.log(`build: ${path.relative(ROOT, result.sumsFile)} written`);

  // Tests and the demo need only the agent bundles the coordinator serves; skip the host bundles.
  const coordinator = agentOnly
    ? []
    : await buildCoordinatorBundles({
        root: ROOT,
        outDir: path.join(ROOT, "dist"),
        artifactsDir,
        consoleDir,
        cacheDir,
        nodeVersion,
        version: readJson("packages/coordinator/package.json").version,
        arches,
      });
  for (const b of coordinator) {
    const what = b.packed ? "packed" : "unchanged";
    console.log(`build: ${path.relative(ROOT, b.file)}  ${mib(b.size)}  sha256 ${b.sha256}  (${what})`);
  }
  console.log(`build: done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

main().catch((err: unknown) => fail(err instanceof Error ? (err.stack ?? err.message) : String(err)));
