import { buildPlan, planForStorage, planFromStorage } from "@muster/coordinator/domain/nodes/plan-builder";
import { ClusterSpecSchema, NodePlanSchema, planChecksum } from "@muster/shared";
import t from "tap";
import { CLUSTER_TOKEN } from "../../helpers/domain.ts";

const spec = ClusterSpecSchema.parse({
  rke2: { version: "v1.33.5+rke2r1" },
  timeouts: { serverJoin: 600, agentJoin: 300 },
});
const s2 = { name: "s2", role: "server" as const, address: "10.0.0.12" };

t.test("init, joiner and agent plans follow docs/rke2-behaviour.md", async (t) => {
  const init = buildPlan({
    spec,
    node: { ...s2, name: "s1" },
    init: true,
    token: null,
    registrationAddress: null,
  });
  t.ok(NodePlanSchema.safeParse(init).success, "a valid plan");
  t.same(
    [init.init, init.captureToken, init.service, init.readiness],
    [true, true, "rke2-server", { registrationAddress: null, timeoutSeconds: 600 }],
  );
  t.notOk("server" in init.config);
  t.same(init.install, {
    installerUrl: "https://get.rke2.io",
    type: "server",
    channel: "stable",
    version: "v1.33.5+rke2r1",
  });

  const joiner = buildPlan({
    spec,
    node: s2,
    init: false,
    token: CLUSTER_TOKEN,
    registrationAddress: "10.0.0.11",
  });
  t.same(
    [joiner.captureToken, joiner.config["server"], joiner.config["token"]],
    [false, "https://10.0.0.11:9345", CLUSTER_TOKEN],
  );
  t.equal(joiner.readiness.registrationAddress, "10.0.0.11");

  const agent = buildPlan({
    spec,
    node: { name: "a1", role: "agent", address: "10.0.0.20" },
    init: false,
    token: CLUSTER_TOKEN,
    registrationAddress: "10.0.0.11",
  });
  t.same([agent.service, agent.install.type, agent.readiness.timeoutSeconds], ["rke2-agent", "agent", 300]);
});

t.test("stored without the token; restored with it to the same checksum", async (t) => {
  const joiner = buildPlan({
    spec,
    node: s2,
    init: false,
    token: CLUSTER_TOKEN,
    registrationAddress: "10.0.0.11",
  });
  const stored = planForStorage(joiner);
  t.notOk(stored.includes(CLUSTER_TOKEN), "no token in the stored plan");
  const restored = planFromStorage(stored, CLUSTER_TOKEN);
  t.same(restored, joiner);
  t.equal(planChecksum(restored), joiner.checksum);
  t.throws(() => planFromStorage(stored, "another-token"), /does not match its checksum/);
  t.throws(() => planFromStorage(stored, null), /needs the cluster token/);
  const init = buildPlan({ spec, node: s2, init: true, token: null, registrationAddress: null });
  t.same(
    planFromStorage(planForStorage(init), CLUSTER_TOKEN),
    init,
    "a capturing init plan never gains the token",
  );
});
