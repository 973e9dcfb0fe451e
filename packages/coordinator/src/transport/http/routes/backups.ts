import {
  AgentTokenMigrationBodySchema,
  CreateBackupBodySchema,
  CreateRestoreBodySchema,
  CreateUpgradeBodySchema,
  parseOrThrow,
} from "@muster/shared";
import type { RouteModule } from "./deps.ts";
import { noQuery } from "./deps.ts";

/** The cluster's etcd snapshots: POST takes one on a server (202 operation), GET lists them. */
export const backupRoutes: RouteModule = (app, { service }) => {
  app.post("/v1/backups", async (req, reply) => {
    noQuery(req);
    const body = parseOrThrow(CreateBackupBodySchema, req.body ?? {}, "request body");
    reply.code(202);
    return service.startBackup(body, req.ip);
  });

  app.get("/v1/backups", async (req) => {
    noQuery(req);
    return service.listBackups();
  });

  app.post("/v1/restores", async (req, reply) => {
    noQuery(req);
    const body = parseOrThrow(CreateRestoreBodySchema, req.body ?? {}, "request body");
    const accepted = await service.startRestore(body, req.ip);
    reply.code(202);
    return accepted;
  });

  // A rolling RKE2 upgrade (docs/reference.md#upgrades): 400 naming both versions when refused.
  app.post("/v1/upgrades", async (req, reply) => {
    noQuery(req);
    const body = parseOrThrow(CreateUpgradeBodySchema, req.body ?? {}, "request body");
    const accepted = service.startUpgrade(body, req.ip);
    reply.code(202);
    return accepted;
  });

  // The agent-token migration of a legacy cluster (docs/operations.md#agent-token-migration): no
  // body; 409 NOT_LEGACY when the cluster already uses the agent token.
  app.post("/v1/agent-token/migration", async (req, reply) => {
    noQuery(req);
    parseOrThrow(AgentTokenMigrationBodySchema, req.body ?? {}, "request body");
    const accepted = service.startAgentTokenMigration(req.ip);
    reply.code(202);
    return accepted;
  });
};
