import { NodePlanSchema, type PlanBody, planChecksum, sealPlan } from "@muster/shared";
import t from "tap";

const body: PlanBody = {
  node: "s1",
  role: "server",
  init: true,
  install: { installerUrl: "https://get.rke2.io", type: "server", channel: "stable" },
  config: { "node-name": "s1", "tls-san": ["a", "b"] },
  manifests: [],
  service: "rke2-server",
  readiness: { registrationAddress: null, timeoutSeconds: 900 },
  captureToken: true,
};

t.test("the checksum depends on content, not key order", async (t) => {
  const reordered = { ...body, config: { "tls-san": ["a", "b"], "node-name": "s1" } };
  t.equal(planChecksum(reordered), planChecksum(body));
  t.not(planChecksum({ ...body, init: false }), planChecksum(body));
});

t.test("a sealed plan validates and its checksum ignores a stale checksum field", async (t) => {
  const plan = sealPlan(body);
  t.ok(NodePlanSchema.safeParse(plan).success);
  t.equal(planChecksum(plan), plan.checksum);
});
