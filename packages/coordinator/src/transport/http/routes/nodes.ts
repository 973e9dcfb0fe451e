import { NodeNameParamSchema, parseOrThrow } from "@muster/shared";
import { z } from "zod";
import type { RouteModule } from "./deps.ts";
import { noBody, noQuery } from "./deps.ts";

export const RemoveQuerySchema = z.strictObject({ force: z.enum(["true", "false"]).optional() });

export const nodeRoutes: RouteModule = (app, { service }) => {
  app.get("/v1/nodes", async (req) => {
    noQuery(req);
    return { nodes: service.listNodes() };
  });

  app.get("/v1/nodes/:name", async (req) => {
    noQuery(req);
    const { name } = parseOrThrow(NodeNameParamSchema, req.params, "path");
    return service.getNode(name);
  });

  // 202: a removal operation (docs/reference.md#removing-a-node); follow it at /v1/operations/:id.
  app.delete("/v1/nodes/:name", async (req, reply) => {
    const { force } = parseOrThrow(RemoveQuerySchema, req.query ?? {}, "query string");
    noBody(req);
    const { name } = parseOrThrow(NodeNameParamSchema, req.params, "path");
    return reply.code(202).send(await service.removeNode(name, force === "true", req.ip));
  });

  app.post("/v1/nodes/:name/retry", async (req) => {
    noQuery(req);
    noBody(req);
    const { name } = parseOrThrow(NodeNameParamSchema, req.params, "path");
    return service.retryNode(name);
  });

  app.post("/v1/nodes/:name/approve", async (req) => {
    noQuery(req);
    noBody(req);
    const { name } = parseOrThrow(NodeNameParamSchema, req.params, "path");
    return service.approveNode(name);
  });

  app.get("/v1/plan", async (req) => {
    noQuery(req);
    return service.getPlan();
  });
};
