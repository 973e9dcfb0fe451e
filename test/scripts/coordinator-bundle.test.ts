import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import t from "tap";
import { buildCoordinatorBundles, coordinatorFileName } from "../../scripts/lib/coordinator-bundle.ts";

// The coordinator bundle with a fake runtime (a sh script running this test's Node): layout, and the
// bundled operator CLI and coordinator actually start from an unpacked copy.
const ROOT = path.resolve(import.meta.dirname, "../..");

t.test("coordinator bundle: runtime, both CLIs, the template and the agent artifacts", async (t) => {
  const dir = t.testdir({
    artifacts: { SHA256SUMS: `${"a".repeat(64)}  muster-agent-linux-amd64.tar.gz\n` },
  });
  writeFileSync(path.join(dir, "artifacts/muster-agent-linux-amd64.tar.gz"), "agent");
  const build = () =>
    buildCoordinatorBundles({
      root: ROOT,
      outDir: path.join(dir, "out"),
      artifactsDir: path.join(dir, "artifacts"),
      cacheDir: path.join(dir, "cache"),
      nodeVersion: "24.21.0",
      version: "0.1.0",
      arches: ["amd64"],
      fetch: async (arch, version) => ({ arch, version, file: "/nonexistent", integrity: "sha512-fake" }),
      extract: async () => ({
        node: Buffer.from(`#!/bin/sh\nexec '${process.execPath}' "$@"\n`),
        license: Buffer.from("license"),
      }),
    });
  const [bundle] = await build();
  t.equal(bundle?.packed, true);
  const tgz = path.join(dir, "out", coordinatorFileName("amd64"));
  const listing = execFileSync("tar", ["-tzf", tgz], { encoding: "utf8" }).trim().split("\n");
  t.same(listing, [
    "VERSION",
    "artifacts/",
    "artifacts/SHA256SUMS",
    "artifacts/muster-agent-linux-amd64.tar.gz",
    "bin/",
    "bin/muster",
    "bin/muster-coordinator",
    "bin/node",
    "lib/",
    "lib/bootstrap.sh.tmpl",
    "lib/muster-coordinator.mjs",
    "lib/muster.mjs",
    "share/",
    "share/muster-coordinator.service",
    "share/node-LICENSE",
  ]);
  const unpacked = path.join(dir, "usr-lib-muster");
  mkdirSync(unpacked);
  execFileSync("tar", ["-xzf", tgz, "-C", unpacked]);
  t.match(
    execFileSync(path.join(unpacked, "bin/muster"), ["--help"], { encoding: "utf8" }),
    /Usage: muster <command>/,
  );
  t.match(
    execFileSync(path.join(unpacked, "bin/muster-coordinator"), ["--help"], { encoding: "utf8" }),
    /muster-coordinator/,
  );
  const [again] = await build();
  t.equal(again?.packed, false, "unchanged inputs: not repacked");
  t.equal(again?.sha256, bundle?.sha256);
});
