import { NodeNameParamSchema, parseOrThrow } from "@muster/shared";
import type { RouteModule } from "./deps.ts";
import { noBody, noQuery } from "./deps.ts";

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
