import { createHash } from "node:crypto";
import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { installerErrors, installPhase } from "@muster/agent/phases/install";
import t from "tap";
import { fakeRke2Host } from "../helpers/fake-rke2.ts";
import { failed, fakeExec, fakeHost, fakeHttp, ok, samplePlan } from "../helpers/fakes.ts";
import { phaseContext } from "../helpers/phase-context.ts";

t.test("runs the installer with INSTALL_RKE2_* env, from a private temp dir it removes", async (t) => {
  const sim = fakeRke2Host(t.testdir());
  const plan = samplePlan({
    install: {
      installerUrl: "https://get.rke2.io",
      type: "server",
      version: "v1.33.5+rke2r1",
      channel: "stable",
    },
  });
  const { ctx } = phaseContext(sim.host, plan);
  t.equal(await installPhase.skipIf!(ctx), null, "not installed yet");
  const calls: Array<{ args: readonly string[]; env?: Record<string, string> }> = [];
  const run = sim.host.exec.run.bind(sim.host.exec);
  sim.host.exec.run = async (cmd, args, opts) => {
    if (cmd === "sh") calls.push({ args, ...(opts?.env ? { env: opts.env } : {}) });
    return run(cmd, args, opts);
  };
  t.match(await installPhase.run(ctx), /installed RKE2 v1\.33\.5\+rke2r1 \(server\)/);
  t.equal(calls.length, 1);
  t.same(calls[0]!.env, {
    INSTALL_RKE2_TYPE: "server",
    INSTALL_RKE2_VERSION: "v1.33.5+rke2r1",
    INSTALL_RKE2_CHANNEL: "stable",
  });
  t.match(
    calls[0]!.args[0],
    new RegExp(`^${sim.root}/var/lib/muster/agent/tmp/install-[0-9a-f]+/install\\.sh$`),
  );
  t.same(readdirSync(path.join(sim.root, "var/lib/muster/agent/tmp")), [], "temp dir removed");
  t.match(await installPhase.skipIf!(ctx), /already installed/, "now skipped");
});

t.test("without a pinned version: skipped when installed with the plan's unit", async (t) => {
  const sim = fakeRke2Host(t.testdir());
  const plan = samplePlan({ role: "agent", install: { installerUrl: "https://get.rke2.io", type: "agent" } });
  const { ctx } = phaseContext(sim.host, plan);
  await installPhase.run(ctx);
  t.match(await installPhase.skipIf!(ctx), /already installed with rke2-agent\.service/);
});

t.test("another installed version is not skipped", async (t) => {
  const sim = fakeRke2Host(t.testdir(), { version: "v1.32.1+rke2r1" });
  const { ctx } = phaseContext(sim.host, samplePlan());
  await sim.host.exec.run("sh", ["x"]);
  t.equal(await installPhase.skipIf!(ctx), null);
});

t.test("installer failure surfaces its [ERROR] lines", async (t) => {
  const stderr =
    "[INFO]  finding release\n[ERROR]  Download failed: sha256 mismatch for rke2.linux-amd64.tar.gz\n";
  const sim = fakeRke2Host(t.testdir(), { installerFails: { exitCode: 1, stderr } });
  const { ctx } = phaseContext(sim.host, samplePlan());
  await t.rejects(
    installPhase.run(ctx),
    /RKE2 installer failed \(exit 1\): \[ERROR\] {2}Download failed: sha256 mismatch/,
  );
  t.same(installerErrors("a\n[ERROR] one\nb\n[ERROR] two\n"), ["[ERROR] one", "[ERROR] two"]);
});

t.test("installer download failure names the URL and status", async (t) => {
  const host = fakeHost(t.testdir(), { http: fakeHttp({}, { "https://get.rke2.io": 503 }).http });
  const { ctx } = phaseContext(host, samplePlan());
  await t.rejects(
    installPhase.run(ctx),
    /downloading the RKE2 installer from https:\/\/get\.rke2\.io failed: HTTP 503/,
  );
});

t.test(
  "air-gap artifactUrl: artifacts fetched into <stateDir>/artifacts/<version>/, hash-checked, images optional",
  async (t) => {
    const root = t.testdir();
    const tarball = "tarball-bytes";
    const sha = createHash("sha256").update(tarball).digest("hex");
    const base = "http://mirror.local/rke2/v1.33.5";
    const { http, fetched } = fakeHttp(
      {},
      {
        "https://get.rke2.io": "#!/bin/sh\n",
        [`${base}/sha256sum-amd64.txt`]: `${sha}  rke2.linux-amd64.tar.gz\n`,
        [`${base}/rke2.linux-amd64.tar.gz`]: tarball,
      },
    );
    const exec = fakeExec((cmd, args) =>
      cmd === "sh" ? ok() : args[0] === "--version" ? ok("rke2 version v1.33.5+rke2r1 (x)\n") : failed(127),
    );
    const host = fakeHost(root, { http, exec: exec.exec });
    const plan = samplePlan({
      install: {
        installerUrl: "https://get.rke2.io",
        type: "server",
        version: "v1.33.5+rke2r1",
        artifactUrl: `${base}/`,
      },
    });
    const { ctx } = phaseContext(host, plan);
    // the "installer" leaves a binary behind so the post-install check finds it
    await host.files.mkdir("/usr/local/bin", 0o755);
    await host.files.writeAtomic("/usr/local/bin/rke2", "", 0o755);
    await installPhase.run(ctx);
    const dir = path.join(root, "var/lib/muster/agent/artifacts/v1.33.5+rke2r1");
    t.equal(exec.calls.find((c) => c.cmd === "sh")!.opts.env!["INSTALL_RKE2_ARTIFACT_PATH"], dir);
    t.ok(existsSync(path.join(dir, "rke2.linux-amd64.tar.gz")));
    t.notOk(existsSync(path.join(dir, "rke2-images.linux-amd64.tar.zst")), "404 on images is fine");
    t.ok(fetched.includes(`${base}/rke2-images.linux-amd64.tar.zst`), "images were tried");

    // Re-run: the tarball already matches its hash, so it is not downloaded again.
    fetched.length = 0;
    await installPhase.run(ctx);
    t.notOk(fetched.includes(`${base}/rke2.linux-amd64.tar.gz`));
  },
);

t.test("air-gap artifact with a wrong hash fails", async (t) => {
  const base = "http://mirror.local/rke2";
  const { http } = fakeHttp(
    {},
    {
      [`${base}/sha256sum-amd64.txt`]: `${"0".repeat(64)}  rke2.linux-amd64.tar.gz\n`,
      [`${base}/rke2.linux-amd64.tar.gz`]: "tampered",
    },
  );
  const host = fakeHost(t.testdir(), { http });
  const plan = samplePlan({
    install: { installerUrl: "https://get.rke2.io", type: "server", artifactUrl: base },
  });
  await t.rejects(installPhase.run(phaseContext(host, plan).ctx), /does not match sha256sum-amd64\.txt/);
});

t.test("artifactPath is used as is; a missing one fails clearly", async (t) => {
  const root = t.testdir({ airgap: {} });
  const exec = fakeExec((cmd) => (cmd === "sh" ? ok() : failed(127)));
  const host = fakeHost(root, {
    exec: exec.exec,
    http: fakeHttp({}, { "https://get.rke2.io": "#!/bin/sh\n" }).http,
  });
  const plan = samplePlan({
    install: { installerUrl: "https://get.rke2.io", type: "server", artifactPath: "/airgap" },
  });
  await t.rejects(installPhase.run(phaseContext(host, plan).ctx), /no rke2 binary/);
  t.equal(
    exec.calls.find((c) => c.cmd === "sh")!.opts.env!["INSTALL_RKE2_ARTIFACT_PATH"],
    path.join(root, "airgap"),
  );
  const missing = samplePlan({
    install: { installerUrl: "https://get.rke2.io", type: "server", artifactPath: "/nope" },
  });
  await t.rejects(installPhase.run(phaseContext(host, missing).ctx), /\/nope does not exist/);
});
