import { hashSecret } from "@muster/shared";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { CoordinatorService } from "../../domain/service.ts";

// The audit trail (docs/operations.md#audit-trail): every admin call that changes something (and the
// few reads that hand out credentials, like the kubeconfig) leaves one log line saying what was done
// or why it was refused, by which credential and from which address, and, when it was done, one
// `admin.action` event saying the same. One onSend hook on the admin scope does it for every route, present and future, so no
// route can forget; routes that are known get words (describe below), others their method and path.
// Nothing here reads a secret: descriptions use ids, names, roles and versions, never a token, a
// body as a whole or a response's secret fields.

type Json = Record<string, unknown>;

interface Call {
  params: Json;
  query: Json;
  body: Json;
  /** The JSON answer of a successful call ({} otherwise). */
  answer: Json;
}

const str = (v: unknown): string => (typeof v === "string" || typeof v === "number" ? String(v) : "?");
const op = (answer: Json): string => {
  const operation = answer["operation"] as Json | undefined;
  return operation ? `: operation ${str(operation["id"])}` : "";
};

/** What a known admin call did, in words, from its route (fastify's form) and method. */
const DESCRIBE: Record<string, (c: Call) => string> = {
  "PUT /v1/cluster": () => "cluster spec replaced",
  "POST /v1/join-tokens": ({ body, answer }) =>
    answer["id"]
      ? `join token ${str(answer["id"])} created (role ${str(answer["role"])}, expires ${str(answer["expiresAt"])})`
      : `join token creation (role ${str(body["role"])})`,
  "DELETE /v1/join-tokens/:id": ({ params }) => `join token ${str(params["id"])} revoked`,
  "POST /v1/nodes/:name/retry": ({ params }) => `retry of node ${str(params["name"])}`,
  "POST /v1/nodes/:name/approve": ({ params }) => `re-enrolment of node ${str(params["name"])} approved`,
  "DELETE /v1/nodes/:name": ({ params, query, answer }) =>
    `removal of node ${str(params["name"])}${query["force"] === "true" ? " (forced)" : ""}${op(answer)}`,
  "POST /v1/upgrades": ({ body, answer }) =>
    `RKE2 upgrade to ${str(body["version"])}${body["drain"] === true ? " with drain" : ""}${op(answer)}`,
  "POST /v1/agent-token/migration": ({ answer }) => `agent-token migration of the cluster${op(answer)}`,
  "POST /v1/backups": ({ body, answer }) =>
    `etcd backup${typeof body["name"] === "string" ? ` ${body["name"]}` : ""}${op(answer)}`,
  "POST /v1/restores": ({ body, answer }) => `restore from snapshot ${str(body["snapshot"])}${op(answer)}`,
  "GET /v1/kubeconfig": () => "admin kubeconfig handed out",
};

/** Reads that are audited like changes: they hand out a credential. */
const AUDITED_READS = new Set(["GET /v1/kubeconfig"]);
const CHANGES = new Set(["POST", "PUT", "PATCH", "DELETE"]);

export interface AuditOptions {
  service: Pick<CoordinatorService, "recordAdminAction">;
  /** hex SHA-256 of the admin token: its first 8 characters name the credential (`admin:1a2b3c4d`). */
  adminTokenHash: string;
}

function objectOf(v: unknown): Json {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Json) : {};
}

function parseAnswer(payload: unknown, status: number): Json {
  if (status >= 300 || typeof payload !== "string") return {};
  try {
    return objectOf(JSON.parse(payload));
  } catch {
    return {};
  }
}

function errorOf(payload: unknown): { code: string; message: string } | undefined {
  if (typeof payload !== "string") return undefined;
  try {
    const error = objectOf(objectOf(JSON.parse(payload))["error"]);
    return { code: str(error["code"]), message: str(error["message"]) };
  } catch {
    return undefined;
  }
}

/** The onSend hook for the admin scope. Never changes the payload and never throws. */
export function auditHook(opts: AuditOptions) {
  const actor = `admin:${opts.adminTokenHash.slice(0, 8)}`;
  return async (req: FastifyRequest, reply: FastifyReply, payload: unknown): Promise<unknown> => {
    const route = `${req.method} ${req.routeOptions.url ?? req.url}`;
    if (!CHANGES.has(req.method) && !AUDITED_READS.has(route)) return payload;
    const status = reply.statusCode;
    const remote = req.ip.replace(/^::ffff:/, "");
    try {
      if (status === 401) {
        // Not an admin action: nobody authenticated. A line (journald, fail2ban), no event.
        req.log.warn({ audit: { route, status, remote } }, `audit: ${route} refused: no valid admin token`);
        return payload;
      }
      const call: Call = {
        params: objectOf(req.params),
        query: objectOf(req.query),
        body: objectOf(req.body),
        answer: parseAnswer(payload, status),
      };
      const describe = DESCRIBE[route];
      const what = describe ? describe(call) : route;
      const error = status >= 400 ? errorOf(payload) : undefined;
      const outcome = error ? ` refused (${status} ${error.code}: ${error.message})` : "";
      const message = `${what}${outcome} by ${actor} from ${remote}`;
      const node = typeof call.params["name"] === "string" ? call.params["name"] : undefined;
      req.log[error ? "warn" : "info"](
        { audit: { action: route, status, actor, remote, ...(node ? { node } : {}) } },
        `audit: ${message}`,
      );
      // A refused call changed nothing, so it leaves nothing in the store either (only its line).
      if (!error) opts.service.recordAdminAction(message, node);
    } catch (err) {
      req.log.error({ err: (err as Error).message, route }, "audit: recording the admin action failed");
    }
    return payload;
  };
}

/** The credential's public name in audit lines (for tests and docs): never the token itself. */
export function actorOf(adminToken: string): string {
  return `admin:${hashSecret(adminToken).slice(0, 8)}`;
}
