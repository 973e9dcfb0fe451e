import { START_ATTEMPTS, startPhase } from "@muster/agent/phases/start";
import t from "tap";
import { failed, fakeHost, fakeSystemd, ok, samplePlan } from "../helpers/fakes.ts";
import { phaseContext } from "../helpers/phase-context.ts";

t.test("enable --now the plan's unit, bounded by the readiness timeout", async (t) => {
  let timeout = 0;
  const sd = fakeSystemd();
  const enableNow = sd.systemd.enableNow;
  sd.systemd.enableNow = (u, o) => {
    timeout = o.timeoutMs;
    return enableNow(u, o);
  };
  const { ctx } = phaseContext(
    fakeHost(t.testdir(), { systemd: sd.systemd }),
    samplePlan({ readiness: { registrationAddress: "10.0.0.100", timeoutSeconds: 900 } }),
  );
  t.equal(await startPhase.skipIf!(ctx), null);
  t.equal(await startPhase.run(ctx), "rke2-server enabled and started");
  t.same(sd.calls, ["enable --now rke2-server"]);
  t.equal(timeout, 900_000);
  t.match(await startPhase.skipIf!(ctx), /already enabled and active/);
});

t.test("refuses to start rke2-server while rke2-agent is active (and vice versa)", async (t) => {
  const sd = fakeSystemd({ "rke2-agent": { active: true, enabled: true } });
  const { ctx } = phaseContext(fakeHost(t.testdir(), { systemd: sd.systemd }), samplePlan());
  await t.rejects(
    startPhase.run(ctx),
    /rke2-agent is active on this node.*systemctl disable --now rke2-agent/,
  );
  t.same(sd.calls, [], "never tried to start");
  const sd2 = fakeSystemd({ "rke2-server": { active: true } });
  const agent = phaseContext(
    fakeHost(t.testdir(), { systemd: sd2.systemd }),
    samplePlan({ role: "agent" }),
  ).ctx;
  await t.rejects(startPhase.run(agent), /rke2-server is active/);
});

t.test("a failing start names the unit, exit code, stderr and journalctl", async (t) => {
  const sd = fakeSystemd({}, () =>
    failed(1, "Job for rke2-server.service failed because the control process exited with error code."),
  );
  const { ctx } = phaseContext(fakeHost(t.testdir(), { systemd: sd.systemd }), samplePlan());
  await t.rejects(
    startPhase.run(ctx),
    /enable --now rke2-server failed \(exit 1\): Job for rke2-server\.service failed.*gave up after 5 attempts.*journalctl -u rke2-server/,
  );
  t.equal(
    sd.calls.length,
    START_ATTEMPTS,
    "retried as often as the unit's Restart=always would, then gave up",
  );
});

t.test("a transient start failure (etcd: unhealthy cluster) is retried and the start succeeds", async (t) => {
  let n = 0;
  const sd = fakeSystemd({}, () => (++n < 3 ? failed(1, "Job for rke2-server.service failed.") : ok()));
  const { ctx } = phaseContext(fakeHost(t.testdir(), { systemd: sd.systemd }), samplePlan());
  t.equal(await startPhase.run(ctx), "rke2-server enabled and started");
  t.same(sd.calls, ["enable --now rke2-server", "enable --now rke2-server", "enable --now rke2-server"]);
});

t.test("a start that outlives the timeout fails clearly", async (t) => {
  const sd = fakeSystemd({}, () => ({ exitCode: 124, stdout: "", stderr: "", timedOut: true }));
  const { ctx } = phaseContext(fakeHost(t.testdir(), { systemd: sd.systemd }), samplePlan());
  await t.rejects(startPhase.run(ctx), /did not report ready within 5s/);
});

t.test("config changed on an active unit: restart instead of skip", async (t) => {
  const sd = fakeSystemd({ "rke2-server": { active: true, enabled: true } }, () => ok());
  const { ctx } = phaseContext(fakeHost(t.testdir(), { systemd: sd.systemd }), samplePlan(), {
    scratch: { configChanged: true },
  });
  t.equal(await startPhase.skipIf!(ctx), null);
  t.equal(await startPhase.run(ctx), "rke2-server restarted with the new config");
  t.same(sd.calls, ["restart rke2-server"]);
});
