import { parseCoordinatorFrame } from "@muster/agent/daemon/frames";
import t from "tap";
import { samplePlan, TOKEN } from "../helpers/fakes.ts";

t.test("valid frames parse", async (t) => {
  const r = parseCoordinatorFrame(
    Buffer.from(JSON.stringify({ type: "welcome", node: "n1", heartbeatSeconds: 15 })),
  );
  t.ok(r.ok);
  t.ok(parseCoordinatorFrame(JSON.stringify({ type: "plan.apply", plan: samplePlan() })).ok);
});

t.test("bad frames are refused with a reason that names the field but never echoes values", async (t) => {
  t.same(parseCoordinatorFrame("{nope"), { ok: false, reason: "frame is not JSON" });
  const unknown = parseCoordinatorFrame(JSON.stringify({ type: "reboot" }));
  t.notOk(unknown.ok);
  t.match((unknown as { reason: string }).reason, /invalid reboot frame|unknown/);
  const plan = { ...samplePlan(), service: "sshd" };
  const bad = parseCoordinatorFrame(JSON.stringify({ type: "plan.apply", plan }));
  t.notOk(bad.ok);
  t.match((bad as { reason: string }).reason, /plan\.service/);
  t.notOk((bad as { reason: string }).reason.includes(TOKEN.slice(-10)), "token never echoed");
  t.notOk(
    parseCoordinatorFrame(JSON.stringify({ type: "welcome", node: "n1", heartbeatSeconds: 15, extra: 1 })).ok,
    "strict",
  );
  t.notOk(parseCoordinatorFrame("null").ok);
});
