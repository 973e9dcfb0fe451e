import { createHmac } from "node:crypto";
import { buildPlan, planForStorage, planFromStorage } from "@muster/coordinator/domain/nodes/plan-builder";
import { ClusterSpecSchema, NodePlanSchema, planChecksum } from "@muster/shared";
import t from "tap";
import { CLUSTER_TOKEN } from "../../helpers/domain.ts";

const spec = ClusterSpecSchema.parse({
  rke2: { version: "v1.33.5+rke2r1" },
  timeouts: { serverJoin: 600, agentJoin: 300 },
});
const s2 = { name: "s2", role: "server" as const, address: "10.0.0.12" };
const KEY = Buffer.alloc(32, 7);
const digest = (secrets: Record<string, string>) =>
  createHmac("sha256", KEY).update(JSON.stringify(secrets)).digest("hex");

t.test("init, joiner and agent plans follow docs/rke2-behaviour.md", async (t) => {
  const init = buildPlan({
    spec,
    node: { ...s2, name: "s1" },
    init: true,
    token: null,
    registrationAddress: null,
    digest,
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
    digest,
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
    digest,
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
    digest,
  });
  const stored = planForStorage(joiner);
  t.notOk(stored.includes(CLUSTER_TOKEN), "no token in the stored plan");
  const restored = planFromStorage(stored, CLUSTER_TOKEN, null, digest);
  t.same(restored, joiner);
  t.equal(planChecksum(restored), joiner.checksum);
  t.throws(() => planFromStorage(stored, "another-token", null, digest), /does not match its checksum/);
  t.throws(() => planFromStorage(stored, null, null, digest), /needs the cluster token/);
  const init = buildPlan({ spec, node: s2, init: true, token: null, registrationAddress: null, digest });
  t.same(
    planFromStorage(planForStorage(init), CLUSTER_TOKEN, null, digest),
    init,
    "a capturing init plan never gains the token",
  );
});

t.test("the checksum covers a keyed digest of the secrets, never the secrets themselves", async (t) => {
  const input = {
    spec,
    node: s2,
    init: false,
    token: CLUSTER_TOKEN,
    registrationAddress: "10.0.0.11",
    digest,
  };
  const plan = buildPlan(input);
  t.match(plan.secretsDigest, /^[0-9a-f]{64}$/);
  t.equal(planChecksum(plan), plan.checksum, "the agent verifies it without the key");
  const { checksum: _c, secretsDigest: _d, ...body } = plan;
  const { createHash } = await import("node:crypto");
  const { canonicalJson } = await import("@muster/shared");
  t.not(
    createHash("sha256").update(canonicalJson(body)).digest("hex"),
    plan.checksum,
    "not an unkeyed hash over the plan with its token (a password oracle)",
  );
  // A guess of the token cannot be checked against the checksum without the key.
  const guess = buildPlan({
    ...input,
    digest: (s) => createHmac("sha256", Buffer.alloc(32, 9)).update(JSON.stringify(s)).digest("hex"),
  });
  t.not(guess.checksum, plan.checksum, "another key gives another checksum for the same token");
  const other = buildPlan({ ...input, token: CLUSTER_TOKEN.replace(/ff$/, "ee") });
  t.not(other.checksum, plan.checksum, "a changed secret still changes the checksum");
  const again = buildPlan(input);
  t.equal(again.checksum, plan.checksum, "deterministic: re-applying the same plan is a no-op");
});
