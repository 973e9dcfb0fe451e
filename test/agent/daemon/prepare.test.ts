import { prepareInstall } from "@muster/agent/daemon/prepare";
import { installPhase } from "@muster/agent/phases/install";
import type { InstallPrepareFrame } from "@muster/shared";
import t from "tap";
import { fakeRke2Host } from "../helpers/fake-rke2.ts";
import { memoryLogger, samplePlan } from "../helpers/fakes.ts";
import { phaseContext } from "../helpers/phase-context.ts";

const frame: InstallPrepareFrame = {
  type: "install.prepare",
  install: {
    installerUrl: "https://get.rke2.io",
    type: "server",
    version: "v1.33.5+rke2r1",
    channel: "stable",
  },
  service: "rke2-server",
};

function deps(host: ReturnType<typeof fakeRke2Host>["host"], signal = new AbortController().signal) {
  return { host, stateDir: "/var/lib/muster/agent", log: memoryLogger().log, signal, arch: "amd64" };
}

t.test("pre-installs RKE2, so the plan's install phase is then skipped", async (t) => {
  const sim = fakeRke2Host(t.testdir());
  let installerRuns = 0;
  const run = sim.host.exec.run.bind(sim.host.exec);
  sim.host.exec.run = async (cmd, args, opts) => {
    if (cmd === "sh") installerRuns++;
    return run(cmd, args, opts);
  };
  const reply = await prepareInstall(frame, deps(sim.host));
  t.same(reply?.ok, true);
  t.match(reply?.message, /pre-installed: installed RKE2 v1\.33\.5\+rke2r1 \(server\)/);
  t.equal(installerRuns, 1);

  const { ctx } = phaseContext(sim.host, samplePlan({ install: frame.install }));
  t.match(await installPhase.skipIf!(ctx), /already installed/, "the plan's install is a no-op now");
  const again = await prepareInstall(frame, deps(sim.host));
  t.match(again?.message, /already installed/);
  t.equal(installerRuns, 1, "a second prepare does not run the installer again");
});

t.test("a failing installer is reported with its [ERROR] line, not thrown", async (t) => {
  const stderr = "[ERROR]  Download failed: sha256 mismatch for rke2.linux-amd64.tar.gz\n";
  const sim = fakeRke2Host(t.testdir(), { installerFails: { exitCode: 1, stderr } });
  const reply = await prepareInstall(frame, deps(sim.host));
  t.equal(reply?.ok, false);
  t.match(reply?.message, /RKE2 installer failed \(exit 1\): \[ERROR\] {2}Download failed: sha256 mismatch/);
});

t.test("an agent stopping mid-install reports nothing (the plan will install)", async (t) => {
  const sim = fakeRke2Host(t.testdir(), { installerFails: { exitCode: 143, stderr: "" } });
  const ac = new AbortController();
  ac.abort();
  t.equal(await prepareInstall(frame, deps(sim.host, ac.signal)), null);
});
