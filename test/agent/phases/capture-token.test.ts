import { captureTokenPhase } from "@muster/agent/phases/capture-token";
import t from "tap";
import { fakeHost, memoryLogger, samplePlan, TOKEN } from "../helpers/fakes.ts";
import { phaseContext } from "../helpers/phase-context.ts";

const initPlan = () =>
  samplePlan({
    init: true,
    captureToken: true,
    config: { "node-name": "node-1", "node-ip": "10.0.0.11" },
    readiness: { registrationAddress: null, timeoutSeconds: 5 },
  });

// t.testdir fixtures cannot set modes; write the token file ourselves.
async function hostWithToken(root: string, content: string, mode: number) {
  const host = fakeHost(root);
  await host.files.mkdir("/var/lib/rancher/rke2/server", 0o700);
  await host.files.writeAtomic("/var/lib/rancher/rke2/server/token", content, mode);
  return host;
}

t.test("skipped unless the plan captures the token", async (t) => {
  const { ctx } = phaseContext(fakeHost(t.testdir()), samplePlan());
  t.match(await captureTokenPhase.skipIf!(ctx), /does not capture/);
  t.equal(await captureTokenPhase.skipIf!(phaseContext(fakeHost(t.testdir()), initPlan()).ctx), null);
});

t.test("reads the 0600 token file and sends token.captured once; never logs it", async (t) => {
  const host = await hostWithToken(t.testdir(), `${TOKEN}\n`, 0o600);
  const { log, lines } = memoryLogger();
  const { ctx, sent } = phaseContext(host, initPlan(), { log });
  await captureTokenPhase.run(ctx);
  t.same(sent, [{ type: "token.captured", checksum: ctx.plan.checksum, token: TOKEN }]);
  t.notOk(lines.join("").includes(TOKEN.split(":").pop()!));
});

t.test("refuses a group/world-readable token file", async (t) => {
  const host = await hostWithToken(t.testdir(), TOKEN, 0o644);
  const { ctx, sent } = phaseContext(host, initPlan());
  await t.rejects(captureTokenPhase.run(ctx), /readable by group or others \(mode 644\).*chmod 600/);
  t.same(sent, []);
});

t.test("refuses a malformed token, an agent token, and a missing file", async (t) => {
  const bad = await hostWithToken(t.testdir(), "K10nothex::server:x", 0o600);
  await t.rejects(
    captureTokenPhase.run(phaseContext(bad, initPlan()).ctx),
    /does not hold a valid RKE2 token/,
  );
  const agentToken = await hostWithToken(t.testdir(), TOKEN.replace("::server:", "::node:"), 0o600);
  await t.rejects(captureTokenPhase.run(phaseContext(agentToken, initPlan()).ctx), /agent token/);
  await t.rejects(
    captureTokenPhase.run(phaseContext(fakeHost(t.testdir()), initPlan()).ctx),
    /does not exist/,
  );
});
