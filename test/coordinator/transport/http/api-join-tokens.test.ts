import { JOIN_TOKEN_PATTERN, JoinTokenCreatedSchema, JoinTokenInfoSchema } from "@muster/shared";
import t from "tap";
import {
  auth,
  createJoinToken,
  enrol,
  facts,
  makeApp,
  PIN,
  PUBLIC_URL,
  snapshot,
} from "../../helpers/harness.ts";

t.test("POST /v1/join-tokens -> 201 with the one-line bootstrap command", async (t) => {
  const { app } = await makeApp(t);
  const res = await app.inject({
    method: "POST",
    url: "/v1/join-tokens",
    headers: auth,
    payload: { role: "server" },
  });
  t.equal(res.statusCode, 201);
  const body = JoinTokenCreatedSchema.parse(res.json());
  t.same(Object.keys(res.json()).sort(), ["command", "expiresAt", "id", "role", "token"]);
  t.match(body.token, JOIN_TOKEN_PATTERN);
  t.ok(body.token.startsWith(`${body.id}.`));
  t.equal(body.role, "server");
  t.equal(
    body.command,
    `curl -fsSL -k --pinnedpubkey '${PIN}' ${PUBLIC_URL}/v1/bootstrap.sh | sudo sh -s - --token ${body.token}`,
  );
  const ttl = Date.parse(body.expiresAt) - Date.now();
  t.ok(ttl > 23.9 * 3600_000 && ttl <= 24 * 3600_000, "default TTL 24 h");

  const short = await app.inject({
    method: "POST",
    url: "/v1/join-tokens",
    headers: auth,
    payload: { role: "agent", ttlSeconds: 600 },
  });
  t.equal(short.statusCode, 201);
  t.ok(Math.abs(Date.parse(short.json().expiresAt) - Date.now() - 600_000) < 5000, "ttlSeconds honoured");
});

t.test("GET lists tokens without secrets; DELETE revokes (204), twice is fine, unknown is 404", async (t) => {
  const { app } = await makeApp(t);
  const created = (
    await app.inject({ method: "POST", url: "/v1/join-tokens", headers: auth, payload: { role: "agent" } })
  ).json();
  const list = await app.inject({ method: "GET", url: "/v1/join-tokens", headers: auth });
  t.equal(list.statusCode, 200);
  t.equal(list.json().tokens.length, 1);
  const info = JoinTokenInfoSchema.parse(list.json().tokens[0]);
  t.match(info, { id: created.id, role: "agent", revoked: false, expired: false, uses: 0 });
  t.notOk(list.body.includes(created.token.split(".")[1]), "the secret is never listed");

  const del = await app.inject({ method: "DELETE", url: `/v1/join-tokens/${created.id}`, headers: auth });
  t.equal(del.statusCode, 204);
  t.equal(del.body, "");
  const again = await app.inject({ method: "DELETE", url: `/v1/join-tokens/${created.id}`, headers: auth });
  t.equal(again.statusCode, 204);
  t.equal(
    (await app.inject({ method: "GET", url: "/v1/join-tokens", headers: auth })).json().tokens[0].revoked,
    true,
  );
  // A client that always sends a JSON content type on DELETE is fine.
  const typed = await app.inject({
    method: "DELETE",
    url: `/v1/join-tokens/${created.id}`,
    headers: { ...auth, "content-type": "application/json" },
  });
  t.equal(typed.statusCode, 204);

  const unknown = await app.inject({ method: "DELETE", url: "/v1/join-tokens/zzzzzz", headers: auth });
  t.equal(unknown.statusCode, 404);
  t.match(unknown.json(), { error: { code: "NOT_FOUND", message: /zzzzzz/ } });
});

t.test("bad join-token requests are 400 naming each field, and store nothing", async (t) => {
  const { app } = await makeApp(t);
  const before = await snapshot(app);
  const cases: Array<[string, unknown, string[]]> = [
    ["missing role", {}, ["role"]],
    ["bad role", { role: "boss" }, ["role"]],
    ["role wrong type", { role: 1 }, ["role"]],
    ["ttl as string", { role: "agent", ttlSeconds: "600" }, ["ttlSeconds"]],
    ["ttl too small", { role: "agent", ttlSeconds: 5 }, ["ttlSeconds"]],
    ["ttl too big", { role: "agent", ttlSeconds: 10 ** 9 }, ["ttlSeconds"]],
    ["ttl fractional", { role: "agent", ttlSeconds: 60.5 }, ["ttlSeconds"]],
    ["extra field", { role: "agent", admin: true }, ["admin"]],
    ["two bad fields", { role: "x", ttlSeconds: "y", extra: 1 }, ["role", "ttlSeconds", "extra"]],
    ["array body", [{ role: "agent" }], ["(root)"]],
    ["null body", null, ["(root)"]],
  ];
  for (const [what, payload, paths] of cases) {
    const res = await app.inject({
      method: "POST",
      url: "/v1/join-tokens",
      headers: { ...auth, "content-type": "application/json" },
      payload: JSON.stringify(payload),
    });
    t.equal(res.statusCode, 400, what);
    const body = res.json();
    t.equal(body.error.code, "VALIDATION_FAILED", what);
    t.same(
      body.error.details.map((d: { path: string }) => d.path).sort(),
      [...paths].sort(),
      `${what}: details`,
    );
    for (const p of paths) t.match(body.error.message, p, `${what}: message names ${p}`);
  }
  const empty = await app.inject({ method: "POST", url: "/v1/join-tokens", headers: auth });
  t.equal(empty.statusCode, 400, "no body at all");
  const query = await app.inject({
    method: "POST",
    url: "/v1/join-tokens?role=agent",
    headers: auth,
    payload: { role: "agent" },
  });
  t.equal(query.statusCode, 400, "unknown query parameter");
  t.same(query.json().error.details, [{ path: "role", message: "unknown field" }]);

  for (const id of ["ABCDEF", "abc", "abcdefg", "abc.de"]) {
    const res = await app.inject({ method: "DELETE", url: `/v1/join-tokens/${id}`, headers: auth });
    t.equal(res.statusCode, 400, `DELETE ${id}`);
    t.same(
      res.json().error.details.map((d: { path: string }) => d.path),
      ["id"],
    );
  }
  const delBody = await app.inject({
    method: "DELETE",
    url: "/v1/join-tokens/abcdef",
    headers: auth,
    payload: { force: true },
  });
  t.equal(delBody.statusCode, 400, "DELETE with a body");
  t.equal(await snapshot(app), before, "nothing stored changed");
});

t.test("POST /v1/bootstrap/verify (open) checks a join token without using it", async (t) => {
  const { app } = await makeApp(t);
  const created = (
    await app.inject({ method: "POST", url: "/v1/join-tokens", headers: auth, payload: { role: "agent" } })
  ).json();
  const ok = await app.inject({
    method: "POST",
    url: "/v1/bootstrap/verify",
    payload: { token: created.token },
  });
  t.equal(ok.statusCode, 200);
  t.same(ok.json(), { id: created.id, role: "agent", expiresAt: created.expiresAt });
  const wrong = await app.inject({
    method: "POST",
    url: "/v1/bootstrap/verify",
    payload: { token: `${created.id}.aaaaaaaaaaaaaaaa` },
  });
  t.equal(wrong.statusCode, 401);
  t.same(wrong.json(), { error: { code: "UNAUTHORIZED", message: "join token is not valid" } });
  t.notOk(wrong.body.includes(created.token));
  const bad = await app.inject({ method: "POST", url: "/v1/bootstrap/verify", payload: { token: 5 } });
  t.equal(bad.statusCode, 400);
  t.same(
    bad.json().error.details.map((d: { path: string }) => d.path),
    ["token"],
  );
  const misspelt = await app.inject({ method: "POST", url: "/v1/bootstrap/verify", payload: { tokn: "x" } });
  t.equal(misspelt.statusCode, 400);
  t.equal(misspelt.json().error.code, "VALIDATION_FAILED");
  t.same(
    misspelt.json().error.details.map((d: { path: string }) => d.path),
    ["token", "tokn"],
  );
  const list = (await app.inject({ method: "GET", url: "/v1/join-tokens", headers: auth })).json();
  t.equal(list.tokens[0].uses, 0, "verifying does not count as a use");

  const withMachine = await app.inject({
    method: "POST",
    url: "/v1/bootstrap/verify",
    payload: { token: created.token, machineId: "0".repeat(32) },
  });
  t.equal(withMachine.statusCode, 200, "an unknown machine id: the token's answer");
  const badMachine = await app.inject({
    method: "POST",
    url: "/v1/bootstrap/verify",
    payload: { token: created.token, machineId: "not-a-machine-id" },
  });
  t.equal(badMachine.statusCode, 400);
  t.same(
    badMachine.json().error.details.map((d: { path: string }) => d.path),
    ["machineId"],
  );
});

t.test(
  "POST /v1/bootstrap/verify with the machine id: 409 for a machine enrolled as the other role",
  async (t) => {
    const { app } = await makeApp(t);
    const server = await createJoinToken(app, "server");
    const agentToken = await createJoinToken(app, "agent");
    const serverFacts = facts("cp-1");
    const { agent } = await enrol(app, server.token, serverFacts);
    t.teardown(() => agent.close());
    const tokensBefore = (await app.inject({ method: "GET", url: "/v1/join-tokens", headers: auth })).body;

    const refused = await app.inject({
      method: "POST",
      url: "/v1/bootstrap/verify",
      payload: { token: agentToken.token, machineId: serverFacts.machineId },
    });
    t.equal(refused.statusCode, 409);
    t.same(refused.json(), {
      error: {
        code: "CONFLICT",
        message: "this machine is already enrolled as server cp-1; an agent join token cannot re-enrol it",
      },
    });
    const sameRole = await app.inject({
      method: "POST",
      url: "/v1/bootstrap/verify",
      payload: { token: server.token, machineId: serverFacts.machineId },
    });
    t.equal(sameRole.statusCode, 200, "its own role's token is fine (a re-run of the bootstrap)");
    const tokensAfter = (await app.inject({ method: "GET", url: "/v1/join-tokens", headers: auth })).body;
    t.equal(tokensAfter, tokensBefore, "no token used");
    const nodes = (await app.inject({ method: "GET", url: "/v1/nodes", headers: auth })).json();
    t.same(
      nodes.nodes.map((n: { name: string; role: string }) => [n.name, n.role]),
      [["cp-1", "server"]],
      "no node added and none changed role",
    );
  },
);
