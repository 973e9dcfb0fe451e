import { OperationIdSchema, parseOrThrow } from "@muster/shared";
import { z } from "zod";
import type { RouteModule } from "./deps.ts";
import { noQuery } from "./deps.ts";

const OperationParamsSchema = z.strictObject({ id: OperationIdSchema });

/** Long-running operations (removal, upgrade, backup, restore): their state, steps and reasons. */
export const operationRoutes: RouteModule = (app, { service }) => {
  app.get("/v1/operations", async (req) => {
    noQuery(req);
    return { operations: service.listOperations() };
  });

  app.get("/v1/operations/:id", async (req) => {
    noQuery(req);
    const { id } = parseOrThrow(OperationParamsSchema, req.params, "path");
    return service.getOperation(id);
  });
};
