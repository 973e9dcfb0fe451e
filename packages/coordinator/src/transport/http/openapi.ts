import type { FastifyInstance, RouteOptions } from "fastify";
import { z } from "zod";
import { ErrorBodySchema, ROUTE_DOCS, type RouteDoc } from "./openapi-routes.ts";
import { noQuery } from "./routes/deps.ts";

// GET /v1/openapi.json (open; docs/reference.md#openapi): the OpenAPI 3.1 document of the REST API,
// generated from the same zod schemas the routes validate with (z.toJSONSchema; OpenAPI 3.1 uses
// JSON Schema 2020-12 as is). What each route takes and answers is listed in openapi-routes.ts; every
// route the app registers is recorded here (onRoute), so a test can hold the two lists together.

export interface RegisteredRoute {
  method: string;
  url: string;
}

const registered = new WeakMap<FastifyInstance, RegisteredRoute[]>();

/** Every route registered on `app` after openapiRoutes ran (HEAD left out: fastify's GET twins). */
export function registeredRoutes(app: FastifyInstance): RegisteredRoute[] {
  return [...(registered.get(app) ?? [])];
}

/** `/v1/nodes/:name` → `/v1/nodes/{name}`. */
export function openapiPath(url: string): string {
  return url.replace(/:([A-Za-z0-9_]+)/g, "{$1}");
}

function jsonSchema(schema: z.ZodType, io: "input" | "output"): Record<string, unknown> {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: "any" });
  return rest;
}

function parameters(doc: RouteDoc): unknown[] {
  const out: unknown[] = [];
  for (const [where, schema] of [
    ["path", doc.params],
    ["query", doc.query],
  ] as const) {
    if (!schema) continue;
    const js = jsonSchema(schema, "input") as { properties?: Record<string, unknown>; required?: string[] };
    for (const [name, prop] of Object.entries(js.properties ?? {}))
      out.push({
        name,
        in: where,
        required: where === "path" || (js.required ?? []).includes(name),
        schema: prop,
      });
  }
  return out;
}

function operation(doc: RouteDoc): Record<string, unknown> {
  const responses: Record<string, unknown> = {};
  for (const [status, r] of Object.entries(doc.responses)) {
    const type = r.contentType ?? "application/json";
    responses[status] = {
      description: r.description,
      ...(r.schema || type !== "application/json"
        ? { content: { [type]: r.schema ? { schema: jsonSchema(r.schema, "output") } : {} } }
        : {}),
    };
  }
  if (doc.auth !== "open") responses["401"] = { $ref: "#/components/responses/Unauthorized" };
  responses["default"] = { $ref: "#/components/responses/Error" };
  const params = parameters(doc);
  return {
    summary: doc.summary,
    ...(doc.description ? { description: doc.description } : {}),
    tags: [doc.tag],
    security:
      doc.auth === "open" ? [] : doc.auth === "metrics" ? [{ admin: [] }, { metrics: [] }] : [{ admin: [] }],
    ...(params.length > 0 ? { parameters: params } : {}),
    ...(doc.body
      ? {
          requestBody: {
            required: doc.bodyRequired ?? true,
            content: { "application/json": { schema: jsonSchema(doc.body, "input") } },
          },
        }
      : {}),
    responses,
  };
}

export function openapiDocument(version: string, docs: readonly RouteDoc[] = ROUTE_DOCS) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const doc of docs) {
    const path = openapiPath(doc.path);
    paths[path] = { ...paths[path], [doc.method.toLowerCase()]: operation(doc) };
  }
  const error = { content: { "application/json": { schema: jsonSchema(ErrorBodySchema, "output") } } };
  return {
    openapi: "3.1.0",
    info: {
      title: "muster coordinator",
      version,
      description:
        "Bootstraps and keeps alive HA RKE2 clusters. Errors are always {error:{code,message,details?}}.",
    },
    paths,
    components: {
      securitySchemes: {
        admin: { type: "http", scheme: "bearer", description: "the admin token (<state-dir>/admin-token)" },
        metrics: {
          type: "http",
          scheme: "bearer",
          description: "the metrics token (<state-dir>/metrics-token), for GET /metrics only",
        },
      },
      responses: {
        Unauthorized: { description: "missing or invalid credentials (UNAUTHORIZED)", ...error },
        Error: { description: "an error in the contract's shape", ...error },
      },
    },
  };
}

/** Records every route registered from now on and serves the document. Call before other routes. */
export function openapiRoutes(app: FastifyInstance, version: string): void {
  const routes: RegisteredRoute[] = [];
  registered.set(app, routes);
  app.addHook("onRoute", (route: RouteOptions) => {
    for (const method of [route.method].flat()) {
      // fastify adds a HEAD twin to every GET; the document describes the GET.
      if (method === "HEAD") continue;
      routes.push({ method, url: route.url });
    }
  });
  let cached: string | undefined;
  app.get("/v1/openapi.json", async (req, reply) => {
    noQuery(req);
    cached ??= JSON.stringify(openapiDocument(version));
    return reply.type("application/json; charset=utf-8").send(cached);
  });
}
