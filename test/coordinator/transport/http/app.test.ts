import t from "tap";
import { ADMIN_TOKEN, auth, makeApp, snapshot } from "../../helpers/harness.ts";

// Cross-cutting HTTP behaviour: open endpoints, auth, the error shape, body handling, headers.

const ERROR_SHAPE = { error: { code: /^[A-Z_]+$/, message: String } };

t.test("GET /healthz is open and answers ok", async (t) => {
  const { app } = await makeApp(t);
  const res = await app.inject({ method: "GET", url: "/healthz" });
  t.equal(res.statusCode, 200);
  t.same(res.json(), { status: "ok" });
  t.equal(res.headers["cache-control"], "no-store");
  t.equal(res.headers["x-content-type-options"], "nosniff");
  t.equal(res.headers["x-frame-options"], "DENY");
  t.ok(res.headers["x-request-id"]);
});

t.test("GET /v1/bootstrap.sh: 503 until a script provider is wired, then the script", async (t) => {
  const bare = await makeApp(t);
  const res = await bare.app.inject({ method: "GET", url: "/v1/bootstrap.sh" });
  t.equal(res.statusCode, 503);
  t.same(res.json(), {
    error: { code: "UNAVAILABLE", message: "agent bundle not built; run npm run build" },
  });

  const wired = await makeApp(t, { app: { bootstrapScript: () => "#!/bin/sh\necho hi\n" } });
  const ok = await wired.app.inject({ method: "GET", url: "/v1/bootstrap.sh" });
  t.equal(ok.statusCode, 200);
  t.match(ok.headers["content-type"], /^text\/x-shellscript/);
  t.equal(ok.body, "#!/bin/sh\necho hi\n");
});

t.test("admin auth: missing, malformed and wrong tokens are 401 with WWW-Authenticate", async (t) => {
  const { app } = await makeApp(t);
  const cases: Array<[string, Record<string, string>]> = [
    ["missing", {}],
    ["empty", { authorization: "" }],
    ["wrong scheme", { authorization: `Basic ${ADMIN_TOKEN}` }],
    ["wrong token", { authorization: "Bearer not-the-admin-token-at-all" }],
    ["token with suffix", { authorization: `Bearer ${ADMIN_TOKEN}x` }],
  ];
  for (const url of [
    "/v1/cluster",
    "/v1/nodes",
    "/v1/join-tokens",
    "/v1/plan",
    "/v1/events",
    "/v1/cluster/spec",
  ]) {
    for (const [what, headers] of cases) {
      const res = await app.inject({ method: "GET", url, headers });
      t.equal(res.statusCode, 401, `${url} ${what}`);
      t.match(res.json(), { error: { code: "UNAUTHORIZED" } });
      t.match(res.headers["www-authenticate"], /^Bearer realm="muster"/);
    }
  }
  const put = await app.inject({ method: "PUT", url: "/v1/cluster", payload: {} });
  t.equal(put.statusCode, 401, "auth is checked before the body");
  const ok = await app.inject({
    method: "GET",
    url: "/v1/cluster",
    headers: { authorization: `bearer ${ADMIN_TOKEN}` },
  });
  t.equal(ok.statusCode, 200, "scheme is case-insensitive");
});

t.test("unknown routes and methods are 404 in the contract shape", async (t) => {
  const { app } = await makeApp(t);
  for (const [method, url] of [
    ["GET", "/nope"],
    ["GET", "/v1/nodes/a/b/c"],
    ["PATCH", "/v1/cluster"],
    ["POST", "/healthz"],
  ] as const) {
    const res = await app.inject({ method, url, headers: auth });
    t.equal(res.statusCode, 404, `${method} ${url}`);
    t.match(res.json(), ERROR_SHAPE);
    t.equal(res.json().error.code, "NOT_FOUND");
  }
});

t.test("GET /v1/agent without an upgrade is a 400 that says what the endpoint is", async (t) => {
  const { app } = await makeApp(t);
  const res = await app.inject({ method: "GET", url: "/v1/agent" });
  t.equal(res.statusCode, 400);
  t.match(res.json().error.message, /WebSocket/);
});

t.test("bodies: invalid JSON 400, wrong content type 415, oversized 413; nothing changes", async (t) => {
  const { app } = await makeApp(t);
  const before = await snapshot(app);
  const post = (payload: string, contentType: string) =>
    app.inject({
      method: "POST",
      url: "/v1/join-tokens",
      headers: { ...auth, "content-type": contentType },
      payload,
    });

  const bad = await post('{"role": "agent",', "application/json");
  t.equal(bad.statusCode, 400);
  t.match(bad.json(), {
    error: { code: "VALIDATION_FAILED", message: /not valid JSON/, details: [{ path: "(root)" }] },
  });

  const proto = await post('{"role":"agent","__proto__":{"x":1}}', "application/json");
  t.equal(proto.statusCode, 400, "prototype poisoning is refused");

  for (const type of ["text/plain", "application/x-www-form-urlencoded", "application/xml"]) {
    const res = await post('{"role":"agent"}', type);
    t.equal(res.statusCode, 415, type);
    t.match(res.json(), { error: { code: "UNSUPPORTED_MEDIA_TYPE" } });
  }
  const noType = await app.inject({
    method: "POST",
    url: "/v1/join-tokens",
    headers: auth,
    payload: Buffer.from("x"),
  });
  t.equal(noType.statusCode, 415, "a body without a content type");

  const big = await post(JSON.stringify({ role: "agent", pad: "x".repeat(70 * 1024) }), "application/json");
  t.equal(big.statusCode, 413);
  t.match(big.json(), { error: { code: "BODY_TOO_LARGE" } });

  const putBig = await app.inject({
    method: "PUT",
    url: "/v1/cluster",
    headers: auth,
    payload: { name: "x", tlsSan: Array.from({ length: 5000 }, (_, i) => `host-${i}.example.com`) },
  });
  t.equal(putBig.statusCode, 413);
  t.equal(await snapshot(app), before, "nothing stored changed");
});

t.test(
  "a 5xx never leaks internals: generic message with a request id, details only in the log",
  async (t) => {
    const { app, logs } = await makeApp(t, {
      wrap: (s) => ({
        ...s,
        getCluster: () => {
          throw new Error("sqlite exploded at /var/lib/muster/muster.db with secret-ish detail");
        },
      }),
    });
    const res = await app.inject({ method: "GET", url: "/v1/cluster", headers: auth });
    t.equal(res.statusCode, 500);
    const body = res.json();
    t.equal(body.error.code, "INTERNAL");
    t.match(body.error.message, /^Internal error \(request id [0-9a-f-]{36}\)$/);
    t.notMatch(res.body, /sqlite|muster\.db|secret/);
    t.equal(body.error.message.includes(String(res.headers["x-request-id"])), true);
    t.ok(logs.some((l) => l.includes("sqlite exploded") && l.includes(String(res.headers["x-request-id"]))));
    const after = await app.inject({ method: "GET", url: "/healthz" });
    t.equal(after.statusCode, 200, "still serving");
  },
);

t.test("request lines are logged at debug without the Authorization header", async (t) => {
  const { app, logs } = await makeApp(t);
  await app.inject({ method: "GET", url: "/v1/nodes", headers: auth });
  const line = logs.map((l) => JSON.parse(l)).find((l) => l.msg === "request" && l.url === "/v1/nodes");
  t.ok(line, "request logged");
  t.equal(line.level, 20, "at debug");
  t.equal(line.status, 200);
  t.notOk(logs.join("\n").includes(ADMIN_TOKEN));
});
