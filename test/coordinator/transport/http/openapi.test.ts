import { readFileSync } from "node:fs";
import { join } from "node:path";
import { openapiPath, registeredRoutes } from "@muster/coordinator/transport/http/openapi";
import t from "tap";
import { makeApp } from "../../helpers/harness.ts";

type Doc = {
  openapi: string;
  paths: Record<string, Record<string, { security: unknown[]; responses: Record<string, unknown> }>>;
};

t.test("GET /v1/openapi.json is open and describes every registered route, and only those", async (t) => {
  const { app } = await makeApp(t, { app: { artifactsDir: t.testdir(), consoleDir: t.testdir() } });
  const res = await app.inject({ method: "GET", url: "/v1/openapi.json" });
  t.equal(res.statusCode, 200, "no credentials needed");
  t.match(res.headers["content-type"], /^application\/json/);
  const doc = res.json() as Doc;
  t.equal(doc.openapi, "3.1.0");

  const routes = registeredRoutes(app);
  t.ok(routes.length >= 20, `routes were recorded (${routes.length})`);
  const seen = new Set<string>();
  for (const r of routes) {
    const key = `${r.method} ${openapiPath(r.url)}`;
    seen.add(key);
    t.ok(doc.paths[openapiPath(r.url)]?.[r.method.toLowerCase()], `${key} is in the document`);
  }
  for (const [path, ops] of Object.entries(doc.paths))
    for (const method of Object.keys(ops))
      t.ok(seen.has(`${method.toUpperCase()} ${path}`), `${method.toUpperCase()} ${path} is a real route`);
});

t.test(
  "the document's security matches the routes: admin ones refuse a request without a token",
  async (t) => {
    const { app } = await makeApp(t);
    const doc = (await app.inject({ method: "GET", url: "/v1/openapi.json" })).json() as Doc;
    let checked = 0;
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        if (op.security.length === 0) continue;
        const url = path.replace(/\{[^}]+\}/g, "abcdef");
        const res = await app.inject({ method: method.toUpperCase() as "GET", url });
        t.equal(res.statusCode, 401, `${method.toUpperCase()} ${url} needs a token`);
        t.ok(op.responses["401"], "and documents its 401");
        checked++;
      }
    }
    t.ok(checked >= 10, `${checked} protected routes checked`);
  },
);

t.test("schemas come from zod: request and response shapes are in the document", async (t) => {
  const { app } = await makeApp(t);
  const doc = (await app.inject({ method: "GET", url: "/v1/openapi.json" })).json() as {
    paths: Record<string, Record<string, Record<string, unknown>>>;
  };
  const create = doc.paths["/v1/join-tokens"]!["post"] as {
    requestBody: { content: { "application/json": { schema: { properties: Record<string, unknown> } } } };
    responses: Record<string, { content: { "application/json": { schema: { required: string[] } } } }>;
  };
  const body = create.requestBody.content["application/json"].schema;
  t.same(body.properties["role"], { type: "string", enum: ["server", "agent"] });
  t.same(create.responses["201"]!.content["application/json"].schema.required.sort(), [
    "command",
    "expiresAt",
    "id",
    "role",
    "token",
  ]);
  const events = doc.paths["/v1/events"]!["get"] as { parameters: Array<{ name: string; in: string }> };
  t.same(
    events.parameters.map((p) => `${p.in}:${p.name}`),
    ["query:after", "query:limit", "query:waitSeconds"],
  );
  const node = doc.paths["/v1/nodes/{name}"]!["get"] as {
    parameters: Array<{ name: string; required: boolean }>;
  };
  t.same(
    node.parameters.map((p) => [p.name, p.required]),
    [["name", true]],
  );
});

t.test("docs/reference.md links the document", async (t) => {
  const reference = readFileSync(join(import.meta.dirname, "../../../../docs/reference.md"), "utf8");
  t.match(reference, "/v1/openapi.json");
});
