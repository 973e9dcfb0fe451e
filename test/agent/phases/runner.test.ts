import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { applyPlan } from "@muster/agent/phases/runner";
import type { Phase } from "@muster/agent/phases/types";
import type { AgentFrame } from "@muster/shared";
import t from "tap";
import { FAKE_TOKEN, fakeRke2Host } from "../helpers/fake-rke2.ts";
import { samplePlan } from "../helpers/fakes.ts";
import { phaseContext } from "../helpers/phase-context.ts";

const STATE = "var/lib/muster/agent";
const joinPlan = () =>
  samplePlan({
    config: {
      server: "https://10.0.0.100:9345",
      token: FAKE_TOKEN,
      "node-name": "node-1",
      "node-ip": "10.0.0.11",
    },
  });
const initPlan = (over: Parameters<typeof samplePlan>[0] = {}) =>
  samplePlan({
    init: true,
    captureToken: true,
    config: { "node-name": "node-1", "node-ip": "10.0.0.11" },
    readiness: { registrationAddress: null, timeoutSeconds: 5 },
    ...over,
  });
const phases = (sent: AgentFrame[]) =>
  sent.flatMap((f) =>
    f.type === "phase" ? [`${f.phase} ${f.status}`] : f.type === "plan.done" ? [`done ${f.ok}`] : [f.type],
  );

t.test(
  "init server: every phase runs, token captured, applied checksum recorded, progress cleared",
  async (t) => {
    const sim = fakeRke2Host(t.testdir());
    // From the channel (no version): the agent reports the release it got.
    const plan = initPlan({
      install: { installerUrl: "https://get.rke2.io", type: "server", channel: "stable" },
    });
    const { ctx, sent } = phaseContext(sim.host, plan);
    const outcome = await applyPlan(ctx);
    t.same(outcome, { ok: true, message: "plan applied; node is ready" });
    t.same(phases(sent), [
      "install started",
      "install succeeded",
      "configure started",
      "configure succeeded",
      "start started",
      "start succeeded",
      "wait-ready started",
      "wait-ready succeeded",
      "capture-token started",
      "token.captured",
      "capture-token succeeded",
      "done true",
    ]);
    t.equal(sent.filter((f) => f.type === "token.captured").length, 1, "token sent once");
    t.match(
      sent.find((f) => f.type === "plan.done"),
      { ok: true, rke2Version: "v1.33.5+rke2r1" },
      "an init server installed from a channel says which release it got",
    );
    const applied = JSON.parse(readFileSync(path.join(sim.root, STATE, "applied.json"), "utf8"));
    t.equal(applied.checksum, plan.checksum);
    t.equal(statSync(path.join(sim.root, STATE, "applied.json")).mode & 0o777, 0o600);
    t.equal(statSync(path.join(sim.root, STATE)).mode & 0o777, 0o700);
    t.throws(() => statSync(path.join(sim.root, STATE, "progress.json")), "progress cleared after success");
    const pinned = phaseContext(fakeRke2Host(path.join(t.testdir(), "pinned")).host, initPlan());
    await applyPlan(pinned.ctx);
    t.notOk(
      "rke2Version" in (pinned.sent.find((f) => f.type === "plan.done") ?? {}),
      "not when the plan names the release",
    );
  },
);

t.test(
  "re-applying the same checksum is a no-op apart from re-probing readiness (and re-sending the token)",
  async (t) => {
    const sim = fakeRke2Host(t.testdir());
    const plan = initPlan();
    await applyPlan(phaseContext(sim.host, plan).ctx);
    const before = sim.log.length;
    const { ctx, sent } = phaseContext(sim.host, plan);
    t.same(await applyPlan(ctx), { ok: true, message: "plan already applied; node is ready" });
    t.same(phases(sent), [
      "install skipped",
      "configure skipped",
      "start skipped",
      "wait-ready started",
      "wait-ready succeeded",
      "capture-token started",
      "token.captured",
      "capture-token succeeded",
      "done true",
    ]);
    t.same(sim.log.slice(before), [], "no installer, no download, no systemctl on re-apply");
  },
);

t.test("resume after a crash mid-phase: configure done, start not -> start onwards only", async (t) => {
  const sim = fakeRke2Host(t.testdir());
  const plan = joinPlan();
  // First run dies inside `start` (simulated crash: start throws a non-phase error before finishing).
  const crash: Phase[] = [
    ...(await import("@muster/agent/phases/runner")).PHASE_LIST.slice(0, 2),
    {
      name: "start",
      run: async () => {
        throw new Error("power cut");
      },
    },
  ];
  await applyPlan(phaseContext(sim.host, plan).ctx, crash);
  const progress = JSON.parse(readFileSync(path.join(sim.root, STATE, "progress.json"), "utf8"));
  t.same(progress.done, ["install", "configure"]);
  t.equal(progress.checksum, plan.checksum);

  const before = sim.log.length;
  const { ctx, sent } = phaseContext(sim.host, plan);
  t.same((await applyPlan(ctx)) as { ok: boolean }, { ok: true, message: "plan applied; node is ready" });
  t.same(phases(sent).slice(0, 4), [
    "install skipped",
    "configure skipped",
    "start started",
    "start succeeded",
  ]);
  t.match((sent[0] as { message: string }).message, /completed before the agent restarted/);
  t.same(sim.log.slice(before), ["systemctl enable --now rke2-server"], "only start touched the host");
});

t.test("progress from another plan is ignored (all phases re-evaluated)", async (t) => {
  const root = t.testdir();
  mkdirSync(path.join(root, STATE), { recursive: true });
  writeFileSync(
    path.join(root, STATE, "progress.json"),
    JSON.stringify({ checksum: "f".repeat(64), done: ["install", "configure", "start"], updatedAt: "x" }),
  );
  const sim = fakeRke2Host(root);
  const { ctx, sent } = phaseContext(sim.host, joinPlan());
  await applyPlan(ctx);
  t.same(phases(sent).slice(0, 2), ["install started", "install succeeded"]);
});

t.test("a failing phase: failed event, plan.done not ok, later phases not run", async (t) => {
  const sim = fakeRke2Host(t.testdir(), {
    installerFails: { exitCode: 1, stderr: "[ERROR]  Can not perform installation as non-root user\n" },
  });
  const { ctx, sent } = phaseContext(sim.host, joinPlan());
  const outcome = await applyPlan(ctx);
  t.same(phases(sent), ["install started", "install failed", "done false"]);
  t.match(
    (outcome as { message: string }).message,
    /^install failed: RKE2 installer failed \(exit 1\): \[ERROR\] {2}Can not perform/,
  );
  t.match((sent[1] as { message: string }).message, /\[ERROR\]/);
});

t.test("the token is never in progress.json or applied.json", async (t) => {
  const sim = fakeRke2Host(t.testdir());
  const plan = joinPlan();
  const crash: Phase[] = [
    ...(await import("@muster/agent/phases/runner")).PHASE_LIST.slice(0, 2),
    {
      name: "start",
      run: async () => {
        throw new Error("crash");
      },
    },
  ];
  await applyPlan(phaseContext(sim.host, plan).ctx, crash);
  const password = FAKE_TOKEN.split(":").pop()!;
  t.notOk(readFileSync(path.join(sim.root, STATE, "progress.json"), "utf8").includes(password));
  await applyPlan(phaseContext(sim.host, plan).ctx);
  t.notOk(readFileSync(path.join(sim.root, STATE, "applied.json"), "utf8").includes(password));
  t.ok(
    readFileSync(path.join(sim.root, "etc/rancher/rke2/config.yaml"), "utf8").includes(password),
    "(it is in config.yaml, 0600)",
  );
});

t.test("stopping mid-phase aborts without reporting a failure, and resumes later", async (t) => {
  const sim = fakeRke2Host(t.testdir());
  const abort = new AbortController();
  const plan = samplePlan({
    ...joinPlan(),
    readiness: { registrationAddress: "10.0.0.100", timeoutSeconds: 30 },
  });
  // readiness never comes: the unit stays inactive
  sim.host.systemd.enableNow = async () => ({ exitCode: 0, stdout: "", stderr: "", timedOut: false });
  const { ctx, sent } = phaseContext(sim.host, plan, { signal: abort.signal, pollMs: 20 });
  const running = applyPlan(ctx);
  setTimeout(() => abort.abort(), 100);
  t.same(await running, { aborted: true });
  t.notOk(
    sent.some((f) => f.type === "plan.done"),
    "no plan.done on abort",
  );
  t.notOk(sent.some((f) => f.type === "phase" && f.status === "failed"));
  const progress = JSON.parse(readFileSync(path.join(sim.root, STATE, "progress.json"), "utf8"));
  t.same(progress.done, ["install", "configure", "start"]);
});
