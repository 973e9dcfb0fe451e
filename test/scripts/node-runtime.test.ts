import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import t from "tap";
import { STRIPPED_NODE_SHA256, stripRuntime } from "../../scripts/lib/node-runtime.ts";

// stripRuntime ships a stripped bin/node only when the result is the binary whose hash is recorded.
const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");
const original = Buffer.from("original node binary");
const strippedBytes = Buffer.from("stripped");
const recorded = { "24.21.0-amd64": sha(strippedBytes) };
const fakeStrip = (bytes: Buffer) => async (_input: string, output: string) => writeFile(output, bytes);

async function workDir(t: { teardown: (fn: () => unknown) => void }) {
  const dir = await mkdtemp(path.join(tmpdir(), "muster-strip-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

t.test("the stripped binary is used when its sha256 is the recorded one", async (t) => {
  const r = await stripRuntime(original, "amd64", "24.21.0", {
    workDir: await workDir(t),
    recorded,
    strip: fakeStrip(strippedBytes),
  });
  t.equal(r.stripped, true);
  t.same(r.node, strippedBytes);
});

t.test("a different strip result ships the original binary and names both hashes", async (t) => {
  const r = await stripRuntime(original, "amd64", "24.21.0", {
    workDir: await workDir(t),
    recorded,
    strip: fakeStrip(Buffer.from("something else")),
  });
  t.equal(r.stripped, false);
  t.same(r.node, original);
  t.match(r.note, recorded["24.21.0-amd64"]);
});

t.test("no recorded hash for the version or arch: unchanged, strip never runs", async (t) => {
  let ran = 0;
  const strip = async () => {
    ran++;
  };
  for (const [arch, version] of [
    ["arm64", "24.21.0"],
    ["amd64", "99.0.0"],
  ] as const) {
    const r = await stripRuntime(original, arch, version, { workDir: await workDir(t), recorded, strip });
    t.equal(r.stripped, false);
    t.same(r.node, original);
    t.match(r.note, "no recorded stripped hash");
  }
  t.equal(ran, 0);
});

t.test("a failing strip (missing binutils) ships the original binary", async (t) => {
  const r = await stripRuntime(original, "amd64", "24.21.0", {
    workDir: await workDir(t),
    recorded,
    strip: async () => {
      throw new Error("spawn strip ENOENT");
    },
  });
  t.equal(r.stripped, false);
  t.same(r.node, original);
  t.match(r.note, "strip failed: spawn strip ENOENT");
});

const key = `${process.versions.node}-amd64`;
const hasStrip = (() => {
  try {
    execFileSync("strip", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();
const realStripSkip =
  process.arch !== "x64" || STRIPPED_NODE_SHA256[key] === undefined || !hasStrip
    ? `needs x64 node with a recorded stripped hash (${key}) and binutils' strip`
    : false;

t.test(
  "the real strip reproduces the recorded hash of this Node binary",
  { skip: realStripSkip },
  async (t) => {
    const node = await readFile(process.execPath);
    const r = await stripRuntime(node, "amd64", process.versions.node, { workDir: await workDir(t) });
    t.equal(r.note, "");
    t.equal(r.stripped, true);
    t.equal(sha(r.node), STRIPPED_NODE_SHA256[key]);
    t.ok(r.node.length < node.length, "smaller than the original");
  },
);
