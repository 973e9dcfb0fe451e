import {
  AgentTokenMigrationBodySchema,
  BackupListSchema,
  ClusterSpecSchema,
  ClusterViewSchema,
  CreateBackupBodySchema,
  CreateJoinTokenBodySchema,
  CreateRestoreBodySchema,
  CreateUpgradeBodySchema,
  EventsPageSchema,
  EventsQuerySchema,
  JoinTokenCreatedSchema,
  JoinTokenInfoSchema,
  KubeconfigViewSchema,
  NodeNameParamSchema,
  NodeViewSchema,
  OperationAcceptedSchema,
  OperationIdSchema,
  OperationListSchema,
  OperationViewSchema,
  PlanViewSchema,
  Rke2SettingsSchema,
  TokenIdParamSchema,
  WhatIfViewSchema,
} from "@muster/shared";
import { z } from "zod";
import { RemoveQuerySchema } from "./routes/nodes.ts";
import { VerifyBodySchema } from "./routes/open.ts";

// What every REST route takes and answers, for the OpenAPI document (openapi.ts). Request schemas are
// the ones the routes validate with; response schemas the ones the CLI and tests check answers
// against. A new route gets its entry here: test/coordinator/transport/http/openapi.test.ts fails for a
// registered route without one (and for an entry without a route).

export interface ResponseDoc {
  description: string;
  schema?: z.ZodType;
  /** Default application/json. */
  contentType?: string;
}

export interface RouteDoc {
  method: "GET" | "POST" | "PUT" | "DELETE" | "PATCH";
  /** fastify's form: /v1/nodes/:name */
  path: string;
  summary: string;
  description?: string;
  tag: string;
  /** admin: the admin token; metrics: the admin or the metrics token; open: nothing. */
  auth: "admin" | "metrics" | "open";
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: z.ZodType;
  bodyRequired?: boolean;
  responses: Record<number, ResponseDoc>;
}

export const ErrorBodySchema = z.strictObject({
  error: z.strictObject({
    code: z.string().regex(/^[A-Z][A-Z_]*$/),
    message: z.string(),
    details: z
      .array(
        z.strictObject({
          path: z.string(),
          message: z.string(),
          value: z.union([z.string(), z.number(), z.boolean(), z.null()]).optional(),
        }),
      )
      .optional(),
  }),
});

const { token: _token, ...rke2Shown } = Rke2SettingsSchema.shape;
/** GET /v1/cluster/spec: the spec with every default, `rke2.tokenSet` in place of the token. */
export const PublicSpecSchema = ClusterSpecSchema.extend({
  rke2: z.strictObject({ ...rke2Shown, tokenSet: z.boolean() }),
});
const VerifiedTokenSchema = z.strictObject({
  id: z.string(),
  role: z.enum(["server", "agent"]),
  expiresAt: z.string(),
});
const OperationParamsSchema = z.strictObject({ id: OperationIdSchema });
const FileParamsSchema = z.strictObject({ file: z.string() });
const json = (description: string, schema?: z.ZodType): ResponseDoc => ({
  description,
  ...(schema ? { schema } : {}),
});

export const ROUTE_DOCS: readonly RouteDoc[] = [
  // --- open -------------------------------------------------------------------------------------
  {
    method: "GET",
    path: "/healthz",
    tag: "open",
    auth: "open",
    summary: "Liveness",
    responses: { 200: json("alive", z.strictObject({ status: z.literal("ok") })) },
  },
  {
    method: "GET",
    path: "/readyz",
    tag: "open",
    auth: "open",
    summary: "Readiness: the store is open and the listeners are up",
    responses: {
      200: json("ready", z.strictObject({ status: z.literal("ready") })),
      503: json("not ready yet (UNAVAILABLE)", ErrorBodySchema),
    },
  },
  {
    method: "GET",
    path: "/v1/openapi.json",
    tag: "open",
    auth: "open",
    summary: "This document",
    responses: { 200: { description: "the OpenAPI 3.1 document" } },
  },
  {
    method: "GET",
    path: "/v1/bootstrap.sh",
    tag: "open",
    auth: "open",
    summary: "The POSIX sh bootstrap script (holds no secret)",
    responses: {
      200: { description: "the script", contentType: "text/x-shellscript" },
      503: json("no agent bundle built (UNAVAILABLE)", ErrorBodySchema),
    },
  },
  {
    method: "POST",
    path: "/v1/bootstrap/verify",
    tag: "open",
    auth: "open",
    summary: "Checks a join token without using it up",
    body: VerifyBodySchema,
    responses: {
      200: json("the token is valid", VerifiedTokenSchema),
      401: json("unknown, wrong, expired or revoked token", ErrorBodySchema),
      409: json("the machine is enrolled under the other role", ErrorBodySchema),
    },
  },
  {
    method: "GET",
    path: "/v1/artifacts/:file",
    tag: "open",
    auth: "open",
    summary: "An agent bundle listed in SHA256SUMS, or SHA256SUMS itself",
    params: FileParamsSchema,
    responses: {
      200: { description: "the file", contentType: "application/octet-stream" },
      304: { description: "If-None-Match matched" },
      404: json("not listed (NOT_FOUND)", ErrorBodySchema),
    },
  },
  {
    method: "GET",
    path: "/v1/artifacts/images/:file",
    tag: "open",
    auth: "open",
    summary: "An air-gap image tarball (kube-vip) for the nodes",
    params: FileParamsSchema,
    responses: {
      200: { description: "the tarball", contentType: "application/octet-stream" },
      304: { description: "If-None-Match matched" },
      404: json("no such image", ErrorBodySchema),
    },
  },
  {
    method: "GET",
    path: "/v1/agent",
    tag: "open",
    auth: "open",
    summary: "The agent channel (WebSocket upgrade; join token or node credential in the first frame)",
    responses: {
      101: { description: "switching protocols" },
      400: json("not a WebSocket upgrade", ErrorBodySchema),
    },
  },
  {
    method: "GET",
    path: "/",
    tag: "console",
    auth: "open",
    summary: "The web console's page (its API calls carry the admin token)",
    responses: {
      200: { description: "index.html", contentType: "text/html" },
      503: json("not built (UNAVAILABLE)", ErrorBodySchema),
    },
  },
  {
    method: "GET",
    path: "/assets/:file",
    tag: "console",
    auth: "open",
    summary: "The console's content-hashed scripts and styles",
    params: FileParamsSchema,
    responses: {
      200: { description: "the asset", contentType: "application/octet-stream" },
      404: json("no such asset", ErrorBodySchema),
    },
  },
  {
    method: "GET",
    path: "/metrics",
    tag: "observability",
    auth: "metrics",
    summary: "Prometheus metrics (admin token or metrics token)",
    responses: { 200: { description: "text format 0.0.4", contentType: "text/plain" } },
  },

  // --- cluster ----------------------------------------------------------------------------------
  {
    method: "GET",
    path: "/v1/cluster",
    tag: "cluster",
    auth: "admin",
    summary: "Phase, registration address, quorum, join in flight, warnings",
    responses: { 200: json("the cluster", ClusterViewSchema) },
  },
  {
    method: "GET",
    path: "/v1/whatif",
    tag: "cluster",
    auth: "admin",
    summary: "For each etcd voting server: would losing it now keep quorum, the tolerance left; warnings",
    responses: { 200: json("the projection", WhatIfViewSchema) },
  },
  {
    method: "GET",
    path: "/v1/cluster/spec",
    tag: "cluster",
    auth: "admin",
    summary: "The stored cluster spec with every default (rke2.tokenSet instead of the token)",
    responses: { 200: json("the spec", PublicSpecSchema) },
  },
  {
    method: "PUT",
    path: "/v1/cluster",
    tag: "cluster",
    auth: "admin",
    summary: "Replaces the cluster spec",
    body: ClusterSpecSchema,
    responses: {
      200: json("the new spec", PublicSpecSchema),
      400: json("invalid spec; details name each field", ErrorBodySchema),
      409: json("the change conflicts with the cluster's state", ErrorBodySchema),
    },
  },

  // --- join tokens ------------------------------------------------------------------------------
  {
    method: "POST",
    path: "/v1/join-tokens",
    tag: "join tokens",
    auth: "admin",
    summary: "Mints a join token and its curl-bash command (the secret is shown once)",
    body: CreateJoinTokenBodySchema,
    responses: {
      201: json("the token", JoinTokenCreatedSchema),
      400: json("invalid role or TTL", ErrorBodySchema),
    },
  },
  {
    method: "GET",
    path: "/v1/join-tokens",
    tag: "join tokens",
    auth: "admin",
    summary: "Join tokens, without secrets",
    responses: { 200: json("the tokens", z.strictObject({ tokens: z.array(JoinTokenInfoSchema) })) },
  },
  {
    method: "DELETE",
    path: "/v1/join-tokens/:id",
    tag: "join tokens",
    auth: "admin",
    summary: "Revokes a join token",
    params: TokenIdParamSchema,
    responses: { 204: { description: "revoked" }, 404: json("unknown id", ErrorBodySchema) },
  },

  // --- nodes, plan, events ----------------------------------------------------------------------
  {
    method: "GET",
    path: "/v1/nodes",
    tag: "nodes",
    auth: "admin",
    summary: "Every node",
    responses: { 200: json("the nodes", z.strictObject({ nodes: z.array(NodeViewSchema) })) },
  },
  {
    method: "GET",
    path: "/v1/nodes/:name",
    tag: "nodes",
    auth: "admin",
    summary: "One node",
    params: NodeNameParamSchema,
    responses: { 200: json("the node", NodeViewSchema), 404: json("unknown node", ErrorBodySchema) },
  },
  {
    method: "DELETE",
    path: "/v1/nodes/:name",
    tag: "nodes",
    auth: "admin",
    summary: "Removes a node safely: a remove operation under the control-plane lease",
    description:
      "Quorum-guarded (invariant 10). force=true removes a node whose agent is gone, skipping the steps on the node itself.",
    params: NodeNameParamSchema,
    query: RemoveQuerySchema,
    responses: {
      202: json("the operation, to follow at /v1/operations/:id", OperationAcceptedSchema),
      404: json("unknown node", ErrorBodySchema),
      409: json(
        "CONFLICT, OPERATION_IN_FLIGHT or QUORUM_GUARD (details: healthyNow, healthyAfter, quorum)",
        ErrorBodySchema,
      ),
    },
  },
  {
    method: "POST",
    path: "/v1/nodes/:name/retry",
    tag: "nodes",
    auth: "admin",
    summary: "Re-queues a failed or check-failed node",
    params: NodeNameParamSchema,
    responses: {
      200: json("the node, back in enrolled", NodeViewSchema),
      404: json("unknown node", ErrorBodySchema),
      409: json("the node is not failed or check-failed", ErrorBodySchema),
    },
  },
  {
    method: "POST",
    path: "/v1/nodes/:name/approve",
    tag: "nodes",
    auth: "admin",
    summary: "Lets the machine waiting to take over this node's identity do so",
    description:
      "Consent to re-enrol (docs/reference.md#consent-to-re-enrol): a machine that enrolled with a join token and this node's machine id takes over on its next hello.",
    params: NodeNameParamSchema,
    responses: {
      200: json("the node, its claim approved", NodeViewSchema),
      404: json("unknown node", ErrorBodySchema),
      409: json("no machine is waiting to take over the node", ErrorBodySchema),
    },
  },
  {
    method: "GET",
    path: "/v1/plan",
    tag: "nodes",
    auth: "admin",
    summary: "What every node not yet joined waits for, in order",
    responses: { 200: json("the plan", PlanViewSchema) },
  },
  {
    method: "GET",
    path: "/v1/events",
    tag: "events",
    auth: "admin",
    summary: "The event log; waitSeconds > 0 long-polls for the next event",
    query: EventsQuerySchema,
    responses: { 200: json("a page of events", EventsPageSchema) },
  },

  // --- operations -------------------------------------------------------------------------------
  {
    method: "GET",
    path: "/v1/operations",
    tag: "operations",
    auth: "admin",
    summary: "Long-running operations, newest first",
    responses: {
      200: json("the operations", OperationListSchema),
    },
  },
  {
    method: "GET",
    path: "/v1/operations/:id",
    tag: "operations",
    auth: "admin",
    summary: "One operation with its steps",
    params: OperationParamsSchema,
    responses: {
      200: json("the operation", OperationViewSchema),
      404: json("unknown operation", ErrorBodySchema),
    },
  },
  // --- backups ----------------------------------------------------------------------------------
  {
    method: "POST",
    path: "/v1/backups",
    tag: "backups",
    auth: "admin",
    summary: "Take an etcd snapshot on one joined server (a backup operation)",
    body: CreateBackupBodySchema,
    responses: {
      202: json("the backup operation", OperationAcceptedSchema),
      400: json("invalid name", ErrorBodySchema),
      409: json("no joined server with a connected agent", ErrorBodySchema),
    },
  },
  {
    method: "GET",
    path: "/v1/backups",
    tag: "backups",
    auth: "admin",
    summary: "The etcd snapshots every joined server lists (local and S3)",
    responses: { 200: json("the snapshots", BackupListSchema) },
  },
  {
    method: "POST",
    path: "/v1/restores",
    tag: "backups",
    auth: "admin",
    summary: "Restore etcd from a snapshot (a restore operation under the control-plane lease)",
    body: CreateRestoreBodySchema,
    responses: {
      202: json("the restore operation", OperationAcceptedSchema),
      400: json("invalid snapshot name", ErrorBodySchema),
      404: json("no joined server lists the snapshot", ErrorBodySchema),
      409: json("the control-plane lease is held", ErrorBodySchema),
    },
  },
  {
    method: "POST",
    path: "/v1/upgrades",
    tag: "backups",
    auth: "admin",
    summary: "Rolling RKE2 upgrade (an upgrade operation under the control-plane lease)",
    body: CreateUpgradeBodySchema,
    responses: {
      202: json("the upgrade operation", OperationAcceptedSchema),
      400: json("a downgrade, a skip of more than one minor, or not a version", ErrorBodySchema),
      409: json("the control-plane lease is held, or the cluster's version is unknown", ErrorBodySchema),
    },
  },
  {
    method: "POST",
    path: "/v1/agent-token/migration",
    tag: "backups",
    auth: "admin",
    summary:
      "Move a legacy cluster to the agent token (an agent-token operation under the control-plane lease)",
    body: AgentTokenMigrationBodySchema,
    responses: {
      202: json("the agent-token operation", OperationAcceptedSchema),
      409: json(
        "the cluster already uses the agent token (NOT_LEGACY), or the lease is held",
        ErrorBodySchema,
      ),
    },
  },
  // --- kubeconfig -------------------------------------------------------------------------------
  {
    method: "GET",
    path: "/v1/kubeconfig",
    tag: "kubeconfig",
    auth: "admin",
    summary: "The admin kubeconfig, its server the registration address (a secret; never logged)",
    responses: {
      200: json("the kubeconfig YAML", KubeconfigViewSchema),
      409: json("no joined server with a connected agent", ErrorBodySchema),
      503: json("no server could read it", ErrorBodySchema),
    },
  },
];
