import { createHash, timingSafeEqual } from "node:crypto";
import rateLimit from "@fastify/rate-limit";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { z } from "zod";

// Connection limits of the front door (docs/reference.md#front-door-limits). Timeouts are Node's own
// (fastify passes them to the http(s) server): a peer that trickles headers or a body, or holds an
// idle socket, is cut within the configured time. Request rates are counted per source address and
// per class of traffic, so a flood of agents (or of unauthenticated callers) never spends the
// operator's budget: a request with the valid admin token is never rate limited, and health probes
// are not counted at all.

const ms = z.number().int().min(100).max(3_600_000);
const Window = z.strictObject({
  /** Requests allowed per source address in one window. */
  max: z.number().int().min(1).max(1_000_000),
  windowMs: ms,
});

export const FrontDoorLimitsSchema = z.strictObject({
  /** A socket with no traffic for this long is closed (Node's server.timeout; fastify connectionTimeout). */
  connectionTimeoutMs: ms.default(60_000),
  /** An idle keep-alive connection between requests is closed after this. */
  keepAliveTimeoutMs: ms.default(5_000),
  /** A request's headers must be complete within this (slowloris). */
  headersTimeoutMs: ms.default(10_000),
  /** A whole request (headers and body) must arrive within this. */
  requestTimeoutMs: ms.default(30_000),
  /**
   * Unauthenticated /v1/agent sockets one source address may hold at once; more upgrades get 429
   * (each such socket may buffer up to the pre-auth frame limit plus one read until it is refused).
   */
  pendingAgentSocketsPerSource: z.number().int().min(1).max(100_000).default(32),
  rateLimit: z
    .strictObject({
      /** Agent traffic: the /v1/agent upgrade, bootstrap script and artifacts. */
      agent: Window.default({ max: 600, windowMs: 60_000 }),
      /** Everything else without the valid admin token (wrong tokens, open routes, probes of the API). */
      anonymous: Window.default({ max: 300, windowMs: 60_000 }),
    })
    .default({ agent: { max: 600, windowMs: 60_000 }, anonymous: { max: 300, windowMs: 60_000 } }),
});
export type FrontDoorLimits = z.infer<typeof FrontDoorLimitsSchema>;
export type FrontDoorLimitsInput = z.input<typeof FrontDoorLimitsSchema>;

export const DEFAULT_LIMITS: FrontDoorLimits = FrontDoorLimitsSchema.parse({});

/** Routes that are never counted: liveness and readiness must answer whatever else is going on. */
const UNCOUNTED = new Set(["/healthz", "/readyz"]);

export type TrafficClass = "admin" | "agent" | "anonymous" | "uncounted";

/** Which budget a request spends. `adminTokenHash` is the hex SHA-256 of the admin token. */
export function trafficClass(
  req: Pick<FastifyRequest, "url" | "headers">,
  adminTokenHash: string,
): TrafficClass {
  const path = req.url.split("?", 1)[0] ?? "";
  if (UNCOUNTED.has(path)) return "uncounted";
  if (hasAdminToken(req.headers.authorization, adminTokenHash)) return "admin";
  if (path === "/v1/agent" || path === "/v1/bootstrap.sh" || path.startsWith("/v1/artifacts/"))
    return "agent";
  return "anonymous";
}

function hasAdminToken(header: string | undefined, adminTokenHash: string): boolean {
  if (!header?.startsWith("Bearer ")) return false;
  const got = createHash("sha256").update(header.slice(7)).digest();
  const want = Buffer.from(adminTokenHash, "hex");
  return got.length === want.length && timingSafeEqual(got, want);
}

/** Registers per-source, per-class rate limits on `app` (before the routes). */
export async function registerRateLimits(
  app: FastifyInstance,
  limits: FrontDoorLimits,
  adminTokenHash: string,
): Promise<void> {
  const classOf = (req: FastifyRequest) => trafficClass(req, adminTokenHash);
  await app.register(rateLimit, {
    global: true,
    // Keys and budgets per class: the agent and anonymous buckets of one address are apart.
    keyGenerator: (req) => `${classOf(req)}|${req.ip}`,
    allowList: (req) => {
      const c = classOf(req);
      return c === "admin" || c === "uncounted";
    },
    max: (req) => (classOf(req) === "agent" ? limits.rateLimit.agent.max : limits.rateLimit.anonymous.max),
    timeWindow: (req) =>
      classOf(req) === "agent" ? limits.rateLimit.agent.windowMs : limits.rateLimit.anonymous.windowMs,
    // Bounded memory under a flood of distinct addresses.
    cache: 10_000,
    // Thrown to the error handler, which answers {"error":{"code":"TOO_MANY_REQUESTS",...}}.
    errorResponseBuilder: (_req, ctx) =>
      Object.assign(new Error(`rate limit exceeded; retry in ${ctx.after}`), { statusCode: 429 }),
  });
}
