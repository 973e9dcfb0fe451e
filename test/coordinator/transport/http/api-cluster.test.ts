import { ClusterViewSchema, formatRke2Token, generateRke2Password } from "@muster/shared";
import t from "tap";
import { auth, makeApp, snapshot } from "../../helpers/harness.ts";

const put = (payload: unknown) => ({
  method: "PUT" as const,
  url: "/v1/cluster",
  headers: { ...auth, "content-type": "application/json" },
  payload: JSON.stringify(payload),
});

t.test("GET /v1/cluster has the contract shape", async (t) => {
  const { app } = await makeApp(t);
  const res = await app.inject({ method: "GET", url: "/v1/cluster", headers: auth });
  t.equal(res.statusCode, 200);
  const view = ClusterViewSchema.parse(res.json());
  t.equal(view.phase, "empty");
  t.same(Object.keys(res.json()).sort(), [
    "agents",
    "joinInFlight",
    "name",
    "phase",
    "registrationAddress",
    "servers",
    "warnings",
  ]);
  t.same(view.joinInFlight, null);
});

t.test(
  "PUT /v1/cluster replaces the spec and returns the public spec; GET /v1/cluster/spec too",
  async (t) => {
    const { app } = await makeApp(t);
    const token = formatRke2Token(
      "-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n",
      generateRke2Password(),
    );
    const spec = {
      name: "prod",
      registrationAddress: "10.0.0.100",
      tlsSan: ["k8s.example.com"],
      rke2: { version: "v1.33.5+rke2r1", token },
      agents: { concurrency: 25 },
    };
    const res = await app.inject(put(spec));
    t.equal(res.statusCode, 200);
    const body = res.json();
    t.match(body, { name: "prod", registrationAddress: "10.0.0.100", agents: { concurrency: 25 } });
    t.equal(body.rke2.tokenSet, true);
    t.equal(body.rke2.token, undefined);
    t.notOk(res.body.includes(token), "the token is never returned");
    t.notOk(res.body.includes(token.split(":").pop()!), "nor its password");
    t.equal(body.rke2.channel, "stable", "defaults are filled in");

    const got = await app.inject({ method: "GET", url: "/v1/cluster/spec", headers: auth });
    t.equal(got.statusCode, 200);
    t.same(got.json(), body);
    t.equal((await app.inject({ method: "GET", url: "/v1/cluster", headers: auth })).json().name, "prod");

    // What GET shows can be edited and sent back: the read-only tokenSet is accepted and ignored.
    const edited = { ...got.json(), agents: { ...got.json().agents, concurrency: 30 } };
    const round = await app.inject(put(edited));
    t.equal(round.statusCode, 200);
    t.equal(round.json().agents.concurrency, 30);
    t.equal(round.json().rke2.tokenSet, true, "the token is kept");

    const other = formatRke2Token("other-ca", generateRke2Password());
    const conflict = await app.inject(put({ ...spec, rke2: { token: other } }));
    t.equal(conflict.statusCode, 409, "the cluster token cannot be changed");
    t.match(conflict.json(), { error: { code: "CONFLICT", details: [{ path: "rke2.token" }] } });
    t.notOk(conflict.body.includes(other), "a refused token is not echoed");
  },
);

t.test("bad specs are 400 naming each field; the stored spec is unchanged", async (t) => {
  const { app } = await makeApp(t);
  await app.inject(put({ name: "keep" }));
  const specBefore = (await app.inject({ method: "GET", url: "/v1/cluster/spec", headers: auth })).body;
  const before = await snapshot(app);
  const cases: Array<[string, unknown, string[]]> = [
    ["bad name", { name: "Bad_Name" }, ["name"]],
    ["wrong type", { agents: { concurrency: "many" } }, ["agents.concurrency"]],
    ["out of range", { agents: { concurrency: 0 } }, ["agents.concurrency"]],
    ["unknown top-level field", { nmae: "x" }, ["nmae"]],
    [
      "unknown nested field",
      { checks: { server: { cpus: 2, memoryGiB: 4, diskGiB: 50, gpus: 1 } } },
      ["checks.server.gpus"],
    ],
    ["bad token", { rke2: { token: "K10nothex::server:pw" } }, ["rke2.token"]],
    ["tokenSet with a wrong type", { rke2: { tokenSet: "yes" } }, ["rke2.tokenSet"]],
    ["bad vip", { vip: { address: "10.0.0.300", interface: "eth0" } }, ["vip.address"]],
    ["owned rke2 key", { servers: { config: { token: "x" } } }, ["servers.config.token"]],
    ["several", { name: 5, tlsSan: "x", extra: true }, ["name", "tlsSan", "extra"]],
    ["not an object", "prod", ["(root)"]],
  ];
  for (const [what, payload, paths] of cases) {
    const res = await app.inject(put(payload));
    t.equal(res.statusCode, 400, what);
    t.equal(res.json().error.code, "VALIDATION_FAILED");
    t.same(
      res
        .json()
        .error.details.map((d: { path: string }) => d.path)
        .sort(),
      [...paths].sort(),
      `${what}: details`,
    );
  }
  const noBody = await app.inject({ method: "PUT", url: "/v1/cluster", headers: auth });
  t.equal(noBody.statusCode, 400);
  const query = await app.inject({ method: "GET", url: "/v1/cluster?verbose=1", headers: auth });
  t.equal(query.statusCode, 400);
  t.same(query.json().error.details, [{ path: "verbose", message: "unknown field" }]);
  t.equal((await app.inject({ method: "GET", url: "/v1/cluster/spec", headers: auth })).body, specBefore);
  t.equal(await snapshot(app), before, "nothing stored changed");
});
