import { connect } from "node:net";
import fc from "fast-check";
import type { InjectOptions } from "fastify";
import t, { type Test } from "tap";
import { auth, makeApp, snapshot } from "../../helpers/harness.ts";

// Every 4xx in the contract's shape, nesting bounded where input enters, and nothing stored changed
// by bad input (docs/architecture.md#invariant-8, docs/reference.md#errors).

function inShape(t: Test, res: { statusCode: number; body: string }, what: string): void {
  let body: { error?: { code?: unknown; message?: unknown } } | undefined;
  try {
    body = JSON.parse(res.body);
  } catch {
    body = undefined;
  }
  t.ok(
    typeof body?.error?.code === "string" &&
      /^[A-Z][A-Z_]+$/.test(body.error.code as string) &&
      typeof body.error.message === "string",
    `${what}: ${res.statusCode} in the contract's shape (${res.body.slice(0, 120)})`,
  );
}

t.test("routing and body errors answer in the contract's shape", async (t) => {
  const { app } = await makeApp(t);
  const before = await snapshot(app);
  const cases: Array<[string, InjectOptions, number]> = [
    ["bad percent-encoding", { method: "GET", url: "/v1/nodes/%zz", headers: auth }, 400],
    [
      "a path parameter over 1024 characters",
      { method: "GET", url: `/v1/nodes/${"a".repeat(1100)}`, headers: auth },
      414,
    ],
    ["an unknown route", { method: "GET", url: "/v2/nothing", headers: auth }, 404],
    [
      "text/plain",
      {
        method: "POST",
        url: "/v1/join-tokens",
        headers: { ...auth, "content-type": "text/plain" },
        payload: "x",
      },
      415,
    ],
    [
      "bad JSON",
      {
        method: "POST",
        url: "/v1/join-tokens",
        headers: { ...auth, "content-type": "application/json" },
        payload: '{"role": SECRET-ISH',
      },
      400,
    ],
    [
      "a body over 64 KiB",
      {
        method: "POST",
        url: "/v1/join-tokens",
        headers: { ...auth, "content-type": "application/json" },
        payload: JSON.stringify({ role: "x".repeat(70_000) }),
      },
      413,
    ],
  ];
  for (const [what, req, status] of cases) {
    const res = await app.inject(req);
    t.equal(res.statusCode, status, what);
    inShape(t, res, what);
  }
  const bad = await app.inject(cases[4]![1]);
  t.notMatch(bad.body, /SECRET-ISH/, "a parse error does not echo the input");

  // 3,000 levels of servers.config: refused at the door, not a 500 from recursive code.
  const deep = `{"servers":{"config":{"a":${"[".repeat(3000)}${"]".repeat(3000)}}}}`;
  const res = await app.inject({
    method: "PUT",
    url: "/v1/cluster",
    headers: { ...auth, "content-type": "application/json" },
    payload: deep,
  });
  t.equal(res.statusCode, 400, "3,000-deep servers.config is a 400");
  inShape(t, res, "deep nesting");
  t.match(res.json().error.message, /nested deeper than 64 levels/);
  t.equal(await snapshot(app), before, "nothing stored changed");
});

const ROUTES = [
  "/healthz",
  "/v1/cluster",
  "/v1/cluster/spec",
  "/v1/join-tokens",
  "/v1/join-tokens/abcdef",
  "/v1/nodes",
  "/v1/nodes/s1",
  "/v1/nodes/s1/retry",
  "/v1/nodes/s1/approve",
  "/v1/plan",
  "/v1/events",
  "/v1/operations",
  "/v1/bootstrap/verify",
  "/v1/agent",
];

/** Bodies no strict schema accepts: junk, deep nesting, prototype pollution, or an extra key. */
const badBody = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc
    .anything({ maxDepth: 4 })
    .map((v) =>
      v !== null && typeof v === "object" && !Array.isArray(v)
        ? JSON.stringify({ ...v, "x-fuzz": 1 })
        : JSON.stringify(v ?? null),
    ),
  fc.integer({ min: 65, max: 5000 }).map((n) => `${'{"a":'.repeat(n)}1${"}".repeat(n)}`),
  fc.constantFrom(
    '{"__proto__":{"admin":true},"role":"server"}',
    '{"constructor":{"prototype":{"polluted":1}},"role":"agent"}',
    '{"role":"server","ttlSeconds":1e309}',
    "\u0000\u0001\u0002",
  ),
);

t.test("fuzz: random methods, paths and bodies never 5xx, every 4xx in shape, nothing changes", async (t) => {
  const { app } = await makeApp(t);
  const before = await snapshot(app);
  const seen = new Map<number, number>();
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom("GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"),
      fc.oneof(
        fc.constantFrom(...ROUTES),
        fc.webPath().map((p) => `/v1${p}`),
        fc.string({ maxLength: 40 }).map((s) => `/v1/nodes/${encodeURIComponent(s)}%`),
        fc.constantFrom(...ROUTES).map((r) => `${r}?after=-1&limit=x&__proto__=1`),
      ),
      badBody,
      fc.constantFrom("application/json", "text/plain", "application/json; charset=latin1", undefined),
      fc.boolean(),
      async (method, url, payload, type, withAuth) => {
        const headers: Record<string, string> = withAuth ? { ...auth } : {};
        if (type) headers["content-type"] = type;
        const res = await app.inject({
          method: method as "GET",
          url,
          headers,
          ...(method === "GET" ? {} : { payload }),
        });
        seen.set(res.statusCode, (seen.get(res.statusCode) ?? 0) + 1);
        if (res.statusCode >= 500) return false;
        if (res.statusCode >= 400) {
          const body = JSON.parse(res.body) as { error?: { code?: unknown; message?: unknown } };
          return typeof body.error?.code === "string" && typeof body.error.message === "string";
        }
        return method === "GET" || method === "OPTIONS";
      },
    ),
    { numRuns: 400, seed: 1414 },
  );
  t.notOk(
    [...seen.keys()].some((s) => s >= 500),
    `statuses seen: ${JSON.stringify([...seen])}`,
  );
  t.equal(await snapshot(app), before, "nothing stored changed");
  const fresh: Record<string, unknown> = {};
  t.same([fresh["polluted"], fresh["admin"]], [undefined, undefined], "no prototype was polluted");
});

t.test(
  "Node-level errors over a raw socket: garbage is a 400 and huge headers a 431, in shape",
  async (t) => {
    const { app } = await makeApp(t);
    await app.listen({ host: "127.0.0.1", port: 0 });
    const { port } = app.server.address() as { port: number };
    const raw = (data: string) =>
      new Promise<string>((resolve, reject) => {
        const socket = connect(port, "127.0.0.1", () => socket.write(data));
        let got = "";
        socket.on("data", (d) => {
          got += d.toString("latin1");
        });
        socket.on("close", () => resolve(got));
        socket.on("error", reject);
        socket.setTimeout(10_000, () => socket.destroy(new Error("no answer")));
      });
    for (const [what, data, status] of [
      ["garbage", "\u0001\u0002 NOT HTTP\r\n\r\n", 400],
      ["a bad request line", "GET /\u0000 HTTP/9.9\r\n\r\n", 400],
      [
        "headers over 16 KiB",
        `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`,
        431,
      ],
    ] as const) {
      const answer = await raw(data);
      const [head, body] = answer.split("\r\n\r\n");
      t.match(head, new RegExp(`^HTTP/1.1 ${status} `), what);
      t.match(head, /content-type: application\/json/i);
      const parsed = JSON.parse(body ?? "");
      t.equal(parsed.error.code, "VALIDATION_FAILED", `${what}: in the contract's shape`);
    }
  },
);
