import { ClusterSpecSchema } from "@muster/shared";
import t from "tap";
import { answerChecks, CLUSTER_TOKEN, finish, join, makeWorld, planOf } from "../../helpers/domain.ts";

// updateSpec and the spec given at startup: validated, persisted, and frozen where nodes depend on it.

const spec = (over: object) => ClusterSpecSchema.parse(over);

t.test("updateSpec validates, persists across restarts, and records an event", async (t) => {
  const w = makeWorld(t);
  t.throws(() => w.coord.updateSpec({ agents: { concurrency: 0 } }), {
    code: "VALIDATION_FAILED",
    details: [{ path: "agents.concurrency" }],
  });
  const out = w.coord.updateSpec({ name: "prod", agents: { concurrency: 3 } });
  t.equal(out.name, "prod");
  const event = w.coord.listEvents(0, 100).events.at(-1)!;
  t.same([event.type, event.message], ["cluster.spec.updated", "cluster spec updated: agents, name"]);
  await w.coord.close();
  const again = w.reopen();
  t.equal(again.coord.getSpec().agents.concurrency, 3);
  t.equal(again.coord.getCluster().name, "prod");
});

t.test("a token from the spec goes to the vault: never shown, never in the stored spec", async (t) => {
  const w = makeWorld(t, { spec: spec({ rke2: { token: CLUSTER_TOKEN } }) });
  t.equal(w.coord.getSpec().rke2.tokenSet, true);
  t.notOk("token" in w.coord.getSpec().rke2);
  join(w, "s1", "server");
  answerChecks(w, "s1");
  w.coord.tick();
  const plan = w.links.get("s1")!.last("plan.apply")!.plan;
  t.equal(plan.captureToken, false, "the init server does not capture a token the spec supplies");
  t.equal(plan.config["token"], CLUSTER_TOKEN);
  t.notOk(JSON.stringify(w.coord.listEvents(0, 100)).includes(CLUSTER_TOKEN));
  t.doesNotThrow(
    () => w.coord.updateSpec({ rke2: { token: CLUSTER_TOKEN } }),
    "the same token again is fine",
  );
  t.throws(() => w.coord.updateSpec({ rke2: { token: "another-password" } }), {
    code: "CONFLICT",
    details: [{ path: "rke2.token" }],
  });
});

t.test("registration address and VIP are frozen once the init server was released", async (t) => {
  const w = makeWorld(t);
  w.coord.updateSpec({ registrationAddress: "10.0.0.200" });
  join(w, "s1", "server");
  answerChecks(w, "s1");
  w.coord.tick();
  t.throws(() => w.coord.updateSpec({ registrationAddress: "10.0.0.201" }), {
    code: "CONFLICT",
    message: /registrationAddress: cannot change after init server s1 was released/,
  });
  t.throws(
    () =>
      w.coord.updateSpec({
        registrationAddress: "10.0.0.200",
        vip: { address: "10.0.0.200", interface: "eth0" },
      }),
    {
      code: "CONFLICT",
      details: [{ path: "vip" }],
    },
  );
  t.throws(() => w.coord.updateSpec({ registrationAddress: "10.0.0.200", rke2: { token: CLUSTER_TOKEN } }), {
    code: "CONFLICT",
    message: /init server s1 is generating the cluster token/,
  });
  t.equal(
    w.coord.updateSpec({ registrationAddress: "10.0.0.200", agents: { concurrency: 2 } }).agents.concurrency,
    2,
  );
  const serverConfig = (config: Record<string, unknown>) => ({
    registrationAddress: "10.0.0.200",
    servers: { config },
  });
  t.throws(() => w.coord.updateSpec(serverConfig({ "cluster-cidr": "10.50.0.0/16" })), {
    code: "CONFLICT",
    details: [{ path: "servers.config.cluster-cidr" }],
  });
  t.doesNotThrow(
    () => w.coord.updateSpec(serverConfig({ "node-label": ["a=b"] })),
    "other server keys may change",
  );
  finish(w, "s1");
  t.throws(() => w.coord.updateSpec({ registrationAddress: "10.0.0.200", rke2: { token: "different-pw" } }), {
    code: "CONFLICT",
    message: /cannot change: the cluster already has a token/,
  });
});

t.test("startup: the config file replaces the stored spec when allowed, else startup fails", async (t) => {
  const w = makeWorld(t, { spec: spec({ name: "one" }) });
  join(w, "s1", "server");
  answerChecks(w, "s1");
  w.coord.tick();
  await w.coord.close();

  const renamed = w.reopen({ spec: spec({ name: "two" }) });
  t.equal(renamed.coord.getCluster().name, "two", "an allowed change from the file is applied");
  await renamed.coord.close();
  const kept = w.reopen({ spec: undefined });
  t.equal(kept.coord.getCluster().name, "two", "no file: the stored spec");
  await kept.coord.close();
  t.throws(() => w.reopen({ spec: spec({ name: "two", registrationAddress: "10.9.9.9" }) }), {
    code: "CONFLICT",
    message: /config file conflicts with the cluster's stored state: registrationAddress/,
  });
  const unchanged = w.reopen({ spec: undefined });
  t.equal(
    unchanged.coord.getCluster().registrationAddress,
    unchanged.coord.getNode("s1").address,
    "nothing stored was lost",
  );
});

t.test("the release: frozen from what the init server installed, kept over an old config file", async (t) => {
  const V = "v1.33.5+rke2r1";
  const w = makeWorld(t, { spec: spec({ name: "chan", rke2: { channel: "stable" } }) });
  join(w, "s1", "server");
  answerChecks(w, "s1");
  w.coord.tick();
  t.notOk(planOf(w, "s1").install.version, "the init server installs the channel's newest");
  finish(w, "s1", CLUSTER_TOKEN, V);
  t.equal(w.coord.getSpec().rke2.version, V, "frozen: the release the init server installed");
  t.ok(
    w.coord
      .listEvents(0, 100)
      .events.some((e) =>
        /rke2\.version unset -> v1\.33\.5\+rke2r1 \(the release init server s1 installed from channel stable\)/.test(
          e.message,
        ),
      ),
    "an event says why",
  );
  join(w, "s2", "server");
  answerChecks(w, "s2");
  await w.coord.settle();
  t.equal(planOf(w, "s2").install.version, V, "a later node installs the cluster's release");
  t.throws(() => w.coord.updateSpec({ name: "chan", rke2: { version: "v1.34.1+rke2r1" } }), {
    code: "CONFLICT",
    details: [{ path: "rke2.version" }],
    message: /is the cluster's release, v1\.33\.5\+rke2r1.*muster upgrade --version/,
  });
  t.throws(
    () => w.coord.updateSpec({ name: "chan" }),
    { code: "CONFLICT" },
    "nor dropped back to the channel",
  );
  await w.coord.close();

  // A config file from before (no version, or an older one) at startup: the release stays, with a warning.
  for (const file of [spec({ name: "chan" }), spec({ name: "chan", rke2: { version: "v1.32.9+rke2r1" } })]) {
    const again = w.reopen({ spec: file });
    t.equal(again.coord.getSpec().rke2.version, V);
    t.ok(
      again.logs.some((l) => l.includes(`keeping ${V}: set rke2.version: ${V} in the file`)),
      "the warning names the fix",
    );
    await again.coord.close();
  }
});

t.test("{version} in the air-gap source stands for each node's release", async (t) => {
  t.throws(() => spec({ rke2: { artifactUrl: "https://mirror.example/rke2/{version}" } }), {
    message: /\{version\} in the air-gap source needs rke2\.version/,
  });
  const w = makeWorld(t, {
    spec: spec({ rke2: { version: "v1.33.5+rke2r1", artifactUrl: "https://mirror.example/rke2/{version}" } }),
  });
  join(w, "s1", "server");
  answerChecks(w, "s1");
  w.coord.tick();
  t.equal(planOf(w, "s1").install.artifactUrl, "https://mirror.example/rke2/v1.33.5+rke2r1");
});
