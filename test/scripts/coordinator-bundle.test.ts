import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import https from "node:https";
import path from "node:path";
import t from "tap";
import { buildCoordinatorBundles, coordinatorFileName } from "../../scripts/lib/coordinator-bundle.ts";

// The coordinator bundle with a fake runtime (a sh script running this test's Node): layout, and the
// bundled operator CLI and coordinator actually start from an unpacked copy.
const ROOT = path.resolve(import.meta.dirname, "../..");

t.test("coordinator bundle: runtime, both CLIs, the template and the agent artifacts", async (t) => {
  const dir = t.testdir({
    artifacts: { SHA256SUMS: `${"a".repeat(64)}  muster-agent-linux-amd64.tar.gz\n` },
    console: { "index.html": "<!doctype html>", assets: { "app-ABC123.js": "console.log(1)" } },
  });
  writeFileSync(path.join(dir, "artifacts/muster-agent-linux-amd64.tar.gz"), "agent");
  const build = () =>
    buildCoordinatorBundles({
      root: ROOT,
      outDir: path.join(dir, "out"),
      artifactsDir: path.join(dir, "artifacts"),
      consoleDir: path.join(dir, "console"),
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
    "console/",
    "console/assets/",
    "console/assets/app-ABC123.js",
    "console/index.html",
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
  // The installed coordinator finds the console it ships (walking up from lib/) and serves it at /.
  const served = spawn(
    path.join(unpacked, "bin/muster-coordinator"),
    ["serve", "--state-dir", path.join(dir, "state"), "--listen", "127.0.0.1:0"],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  t.teardown(() => served.kill("SIGKILL"));
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    served.stdout!.on("data", (d) => {
      out += d;
      const m = /"url":"(https:[^"]+)"/.exec(out);
      if (m) resolve(m[1]!);
    });
    served.once("exit", (code) => reject(new Error(`coordinator exited ${code}: ${out}`)));
  });
  const page = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    https
      .get(`${url}/`, { rejectUnauthorized: false }, (res) => {
        let body = "";
        res.on("data", (c) => (body += c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on("error", reject);
  });
  t.equal(page.status, 200, "GET / of the installed coordinator");
  t.equal(page.body, "<!doctype html>", "its shipped console");
  served.kill("SIGTERM");

  const [again] = await build();
  t.equal(again?.packed, false, "unchanged inputs: not repacked");
  t.equal(again?.sha256, bundle?.sha256);
});
