import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, readFile, realpath, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { gunzipSync } from "node:zlib";
import t from "tap";
import {
  AGENT_NODE_FLAGS,
  buildAgentBundles,
  bundleFileName,
  WRAPPER,
} from "../../scripts/lib/agent-bundle.ts";
import { pinnedNodeVersion, type Runtime } from "../../scripts/lib/node-runtime.ts";
import { readTar } from "../../scripts/lib/tar.ts";

// The build with a placeholder entry and a fake runtime (a sh script that runs this test's own Node),
// so it runs offline in a second; the real runtime fetch is exercised by `npm run build`.
const ROOT = path.resolve(import.meta.dirname, "../..");
const fakeRuntime: Runtime = {
  node: Buffer.from(`#!/bin/sh\nexec '${process.execPath}' "$@"\n`),
  license: Buffer.from("fake license\n"),
};

async function build(outDir: string, unitFile = path.join(ROOT, "systemd/muster-agent.service")) {
  let extracted = 0;
  const result = await buildAgentBundles({
    entry: path.join(import.meta.dirname, "fixtures/placeholder-agent.ts"),
    outDir,
    cacheDir: path.join(outDir, "cache"),
    nodeVersion: "24.21.0",
    agentVersion: "0.1.0",
    unitFile,
    arches: ["amd64", "arm64"],
    fetch: async (arch, version) => ({
      arch,
      version,
      file: "/nonexistent",
      integrity: `sha512-fake-${arch}`,
    }),
    extract: async () => {
      extracted++;
      return fakeRuntime;
    },
  });
  return { result, extracted };
}

t.test(
  "bundles hold the runtime, the agent, a wrapper, the unit and VERSION, with fixed metadata",
  async (t) => {
    const dir = await mkdtemp(path.join(tmpdir(), "muster-build-"));
    t.teardown(() => rm(dir, { recursive: true, force: true }));
    const { result } = await build(dir);
    t.equal(result.bundles.length, 2);
    const tgz = await readFile(path.join(dir, bundleFileName("amd64")));
    const entries = readTar(gunzipSync(tgz));
    t.same(
      entries.map((e) => [e.name, e.mode.toString(8)]),
      [
        ["VERSION", "644"],
        ["bin/", "755"],
        ["bin/muster-agent", "755"],
        ["bin/node", "755"],
        ["lib/", "755"],
        ["lib/muster-agent.mjs", "644"],
        ["share/", "755"],
        ["share/muster-agent.service", "644"],
        ["share/node-LICENSE", "644"],
      ],
    );
    // GNU tar reads it without complaint, and the wrapper runs the bundled agent from any cwd and via a symlink.
    const listing = execFileSync("tar", ["-tvzf", path.join(dir, bundleFileName("amd64"))], {
      encoding: "utf8",
    });
    t.match(listing, /0\/0 .* 2000-01-01 00:00 bin\/node/);
    const unpacked = path.join(dir, "unpacked dir");
    execFileSync("mkdir", ["-p", unpacked]);
    execFileSync("tar", ["-xzf", path.join(dir, bundleFileName("amd64")), "-C", unpacked]);
    execFileSync("ln", ["-s", path.join(unpacked, "bin/muster-agent"), path.join(dir, "link")]);
    const out = execFileSync(path.join(dir, "link"), ["run", "--config", "/etc/muster/agent.yaml"], {
      encoding: "utf8",
      cwd: "/",
    });
    t.same(JSON.parse(out), { args: ["run", "--config", "/etc/muster/agent.yaml"], si: "function" });

    const sums = await readFile(result.sumsFile, "utf8");
    const lines = sums.trim().split("\n");
    t.equal(lines.length, 2);
    t.match(lines[0], /^[a-f0-9]{64} {2}muster-agent-linux-amd64\.tar\.gz$/);
    t.equal(
      execFileSync("sha256sum", ["-c", "SHA256SUMS"], { cwd: dir, encoding: "utf8" }).match(/OK/g)?.length,
      2,
    );
    t.equal(await readFile(path.join(dir, "VERSION"), "utf8"), "0.1.0\n");
  },
);

t.test("unchanged inputs skip packing; the output is reproducible; a changed input repacks", async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), "muster-build-"));
  const other = await mkdtemp(path.join(tmpdir(), "muster-build-"));
  t.teardown(() => Promise.all([rm(dir, { recursive: true }), rm(other, { recursive: true })]));
  const first = await build(dir);
  t.equal(first.extracted, 2);
  const again = await build(dir);
  t.equal(again.extracted, 0, "no runtime extracted: nothing repacked");
  t.same(
    again.result.bundles.map((b) => b.packed),
    [false, false],
  );
  t.same(
    again.result.bundles.map((b) => b.sha256),
    first.result.bundles.map((b) => b.sha256),
  );
  const elsewhere = await build(other);
  t.same(
    elsewhere.result.bundles.map((b) => b.sha256),
    first.result.bundles.map((b) => b.sha256),
    "same inputs, same bytes, in another directory",
  );
  const unit = path.join(dir, "changed.service");
  await writeFile(
    unit,
    `${await readFile(path.join(ROOT, "systemd/muster-agent.service"), "utf8")}\n# changed\n`,
  );
  const changed = await build(dir, unit);
  t.same(
    changed.result.bundles.map((b) => b.packed),
    [true, true],
  );
  t.not(changed.result.bundles[0]?.sha256, first.result.bundles[0]?.sha256);
});

t.test("the launcher is shellcheck -s sh clean", async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), "muster-build-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(path.join(dir, "muster-agent"), WRAPPER);
  t.equal(execFileSync("shellcheck", ["-s", "sh", path.join(dir, "muster-agent")], { encoding: "utf8" }), "");
});

t.test("the agent launcher runs node with the agent's V8 flags, before the bundle", async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), "muster-build-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await mkdir(path.join(dir, "bin"));
  await writeFile(path.join(dir, "bin/muster-agent"), WRAPPER, { mode: 0o755 });
  await writeFile(path.join(dir, "bin/node"), '#!/bin/sh\nprintf "%s\\n" "$@"\n', { mode: 0o755 });
  const args = execFileSync(path.join(dir, "bin/muster-agent"), ["check", "--json"], { encoding: "utf8" });
  t.same(args.trim().split("\n"), [
    ...AGENT_NODE_FLAGS,
    `${await realpath(dir)}/bin/../lib/muster-agent.mjs`,
    "check",
    "--json",
  ]);
  t.ok(AGENT_NODE_FLAGS.includes("--max-semi-space-size=1"), "a small young generation: lower idle RSS");
});

t.test("the runtime version is the root package.json's pinned node", async (t) => {
  const pkg = JSON.parse(await readFile(path.join(ROOT, "package.json"), "utf8"));
  t.match(pinnedNodeVersion(pkg), /^24\.\d+\.\d+$/);
  t.equal(pinnedNodeVersion({ devDependencies: { node: "^24.21.0" } }), "24.21.0");
  t.throws(() => pinnedNodeVersion({ devDependencies: { node: "latest" } }), /must pin a version/);
  t.throws(() => pinnedNodeVersion({}), /must pin a version/);
});
