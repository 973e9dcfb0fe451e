import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import {
  bootstrapScriptProvider,
  defaultArtifactsDir,
  loadArtifacts,
  parseSha256Sums,
} from "@muster/coordinator/transport/delivery/artifacts";
import {
  type BootstrapScriptOptions,
  renderBootstrapScript,
  renderJoinCommand,
} from "@muster/coordinator/transport/delivery/bootstrap-script";
import { isMusterError } from "@muster/shared";
import t from "tap";

const pin = `sha256//${Buffer.alloc(32, 1).toString("base64")}`;
const a = "a".repeat(64);
const b = "b".repeat(64);
const base: BootstrapScriptOptions = {
  coordinatorUrl: "https://10.0.0.5:9443/",
  pin,
  checksums: { amd64: a, arm64: b },
  agentVersion: "0.1.0",
};

t.test("embeds URL, pin, version and checksums as quoted sh values, and nothing else", async (t) => {
  const s = renderBootstrapScript(base);
  t.match(s, /^#!\/bin\/sh\n/);
  t.match(s, "\nCOORDINATOR_URL='https://10.0.0.5:9443'\n", "trailing slash dropped");
  t.match(s, `\nPIN='${pin}'\n`);
  t.match(s, "\nAGENT_VERSION='0.1.0'\n");
  t.match(s, `\nSHA256_AMD64='${a}'\nSHA256_ARM64='${b}'\n`);
  t.notMatch(s, /@@/, "no placeholder left");
  t.match(s, /# Exit codes: 0 .* 1 failure; 2 usage error/);
  const amd64Only = renderBootstrapScript({ ...base, checksums: { amd64: a } });
  t.match(amd64Only, "\nSHA256_ARM64=''\n", "a missing arch is empty: the script refuses it clearly");
});

t.test("refuses values that could break out of the script's quoting", async (t) => {
  const bad: [Partial<typeof base>, RegExp][] = [
    [{ coordinatorUrl: "http://10.0.0.5:9443" }, /plain https:\/\/ URL/],
    [{ coordinatorUrl: "https://x'$(reboot)'" }, /plain https:\/\/ URL/],
    [{ coordinatorUrl: "https://a b" }, /plain https:\/\/ URL/],
    [{ pin: "sha256//x'" }, /pin must be/],
    [{ checksums: { amd64: "A".repeat(64) } }, /checksums\.amd64/],
    [{ checksums: { arm64: "abc" } }, /checksums\.arm64/],
    [{ agentVersion: "1.0;rm" }, /not a version/],
  ];
  for (const [override, message] of bad)
    t.throws(() => renderBootstrapScript({ ...base, ...override }), message);
  t.doesNotThrow(() => renderBootstrapScript({ ...base, coordinatorUrl: "https://[fd00::5]:9443" }));
  t.doesNotThrow(() =>
    renderBootstrapScript({ ...base, coordinatorUrl: "https://coord.example.com:9443/muster" }),
  );
});

t.test("the join command is the contract's one-liner", async (t) => {
  t.equal(
    renderJoinCommand({ coordinatorUrl: "https://10.0.0.5:9443/", pin, token: "abcdef.0123456789abcdef" }),
    `curl -fsSL -k --pinnedpubkey '${pin}' https://10.0.0.5:9443/v1/bootstrap.sh | sudo sh -s - --token abcdef.0123456789abcdef`,
  );
});

t.test("SHA256SUMS: sha256sum format, plain names only", async (t) => {
  t.same(
    [...parseSha256Sums(`${a}  x.tar.gz\n${b} *y.bin\n\n`)],
    [
      ["x.tar.gz", a],
      ["y.bin", b],
    ],
  );
  t.throws(() => parseSha256Sums(`${a}  ../etc/passwd\n`), /cannot read line/);
  t.throws(() => parseSha256Sums(`${a}  .hidden\n`), /cannot read line/);
  t.throws(() => parseSha256Sums("nonsense\n"), /cannot read line/);
});

t.test("the provider follows rebuilds and is 503 until a bundle exists", async (t) => {
  const dir = t.testdir({});
  const provide = bootstrapScriptProvider({
    coordinatorUrl: "https://10.0.0.5:9443",
    pin,
    artifactsDir: dir,
  });
  try {
    provide();
    t.fail("should throw while no bundle is built");
  } catch (err) {
    t.ok(isMusterError(err) && err.code === "UNAVAILABLE", "UNAVAILABLE (503)");
    t.match((err as Error).message, /npm run build/);
  }
  const write = (sums: string, version: string) => {
    writeFileSync(path.join(dir, "VERSION"), `${version}\n`);
    writeFileSync(path.join(dir, ".tmp"), sums);
    renameSync(path.join(dir, ".tmp"), path.join(dir, "SHA256SUMS"));
  };
  write(`${a}  muster-agent-linux-amd64.tar.gz\n`, "1.0.0");
  t.match(provide(), `SHA256_AMD64='${a}'`);
  t.match(provide(), "AGENT_VERSION='1.0.0'");
  write(`${b}  muster-agent-linux-amd64.tar.gz\n${a}  muster-agent-linux-arm64.tar.gz\n`, "1.1.0");
  t.match(provide(), `SHA256_AMD64='${b}'\nSHA256_ARM64='${a}'`);
  t.same(loadArtifacts(dir).checksums, { amd64: b, arm64: a });
  t.equal(loadArtifacts(dir).agentVersion, "1.1.0");
});

t.test("defaultArtifactsDir finds artifacts/ or dist/artifacts/ above the module", async (t) => {
  const root = t.testdir({ dist: { artifacts: { SHA256SUMS: "" } }, lib: { deep: {} } });
  t.equal(defaultArtifactsDir(path.join(root, "lib/deep/x.mjs")), path.join(root, "dist/artifacts"));
  mkdirSync(path.join(root, "lib/artifacts"));
  writeFileSync(path.join(root, "lib/artifacts/SHA256SUMS"), "");
  t.equal(defaultArtifactsDir(path.join(root, "lib/deep/x.mjs")), path.join(root, "lib/artifacts"));
});
