import { randomUUID } from "node:crypto";
import websocket from "@fastify/websocket";
import { InvalidJson, type Logger, MAX_FRAME_BYTES, WebSocketUpgradeRequired } from "@muster/shared";
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from "fastify";
import pkg from "../../../package.json" with { type: "json" };
import type { CoordinatorService } from "../../domain/service.ts";
import { AgentHub, type HubOptions } from "../agent-channel/hub.ts";
import { AgentSocket } from "../agent-channel/protocol.ts";
import { artifactsRoutes, imagesRoutes } from "../delivery/artifacts-routes.ts";
import type { ImageDir } from "../delivery/images.ts";
import { auditHook } from "./audit.ts";
import { requireAdmin } from "./auth.ts";
import { errorHandler, notFoundHandler } from "./errors.ts";
import {
  clientErrorHandler,
  frameworkErrors,
  jsonDepth,
  MAX_HEADER_BYTES,
  MAX_JSON_DEPTH,
} from "./hardening.ts";
import { DEFAULT_LIMITS, type FrontDoorLimits, registerRateLimits } from "./limits.ts";
import { metricsRoutes } from "./metrics.ts";
import { openapiRoutes } from "./openapi.ts";
import { readinessRoutes } from "./readiness.ts";
import { backupRoutes } from "./routes/backups.ts";
import { clusterRoutes } from "./routes/cluster.ts";
import { consoleRoutes } from "./routes/console.ts";
import type { RouteDeps } from "./routes/deps.ts";
import { eventRoutes } from "./routes/events.ts";
import { joinTokenRoutes } from "./routes/join-tokens.ts";
import { kubeconfigRoutes } from "./routes/kubeconfig.ts";
import { nodeRoutes } from "./routes/nodes.ts";
import { openRoutes } from "./routes/open.ts";
import { operationRoutes } from "./routes/operations.ts";

// Builds the coordinator's HTTP surface without listening, so tests drive it with inject/injectWS
// and main.ts only adds a port. The service (domain) is passed in; the app never owns its lifetime.

export const BODY_LIMIT = 64 * 1024;
export const REQUEST_TIMEOUT_MS = DEFAULT_LIMITS.requestTimeoutMs;
export const HEADERS_TIMEOUT_MS = DEFAULT_LIMITS.headersTimeoutMs;

/** TLS 1.2 offers only AEAD suites with forward secrecy (ECDHE + GCM or ChaCha20-Poly1305); the
 *  TLS 1.3 suites are all AEAD with forward secrecy and are left as Node has them. */
export const TLS12_CIPHERS = [
  "ECDHE-ECDSA-AES128-GCM-SHA256",
  "ECDHE-RSA-AES128-GCM-SHA256",
  "ECDHE-ECDSA-AES256-GCM-SHA384",
  "ECDHE-RSA-AES256-GCM-SHA384",
  "ECDHE-ECDSA-CHACHA20-POLY1305",
  "ECDHE-RSA-CHACHA20-POLY1305",
];
export const TLS13_CIPHERS = [
  "TLS_AES_128_GCM_SHA256",
  "TLS_AES_256_GCM_SHA384",
  "TLS_CHACHA20_POLY1305_SHA256",
];

export interface BuildAppOptions {
  service: CoordinatorService;
  logger: Logger;
  /** How agents and operators reach us, e.g. https://10.0.0.5:9443 (used in the join command).
   *  A function when it is known only after listen (port 0). */
  publicUrl: string | (() => string);
  /** SPKI pin of the serving cert (curl --pinnedpubkey form). */
  pin: string;
  /** hex SHA-256 of the admin token. */
  adminTokenHash: string;
  /** hex SHA-256 of the metrics token (<state-dir>/metrics-token): /metrics takes it or the admin token. */
  metricsTokenHash?: string;
  /** Renders /v1/bootstrap.sh; absent until the agent bundle is built (then 503). */
  bootstrapScript?: () => string;
  /** Directory of agent bundles + SHA256SUMS served under /v1/artifacts/ (air-gap: nodes need nothing else). */
  artifactsDir?: string;
  /** Air-gap image tarballs (kube-vip) served under /v1/artifacts/images/. */
  images?: ImageDir;
  /** The built web console (dist/console) served at /; absent: GET / answers 503. */
  consoleDir?: string;
  /** Serve HTTPS with this cert (main.ts); tests leave it out and use inject. */
  https?: { cert: string; key: string };
  /** Heartbeat/auth timing of the agent channel (tests shorten them). */
  hub?: Omit<HubOptions, "service" | "logger">;
  /** Timeouts and per-source rate limits (limits.ts); defaults: DEFAULT_LIMITS. */
  limits?: FrontDoorLimits;
}

export interface MusterApp extends FastifyInstance {
  hub: AgentHub;
}

const SECURITY_HEADERS = {
  "cache-control": "no-store",
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
};

export async function buildApp(opts: BuildAppOptions): Promise<MusterApp> {
  const limits = opts.limits ?? DEFAULT_LIMITS;
  // Node checks header/request deadlines only this often (default 30 s): often enough to keep them.
  const checking = {
    maxHeaderSize: MAX_HEADER_BYTES,
    connectionsCheckingInterval: Math.max(50, Math.min(1000, limits.headersTimeoutMs / 4)),
  };
  const app = Fastify({
    loggerInstance: opts.logger as FastifyBaseLogger,
    // Request lines go out at debug (below); fastify's own per-request info lines would flood journald.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT,
    // Node names may be 253 characters; longer params reach the schema and get a named 400, not a 414.
    routerOptions: { maxParamLength: 1024 },
    genReqId: () => randomUUID(),
    // Every answer in the contract's shape, also below the router (hardening.ts).
    clientErrorHandler,
    frameworkErrors,
    // A request (headers and body) must arrive within this; slow senders are cut (slowloris).
    requestTimeout: limits.requestTimeoutMs,
    // An idle socket (nothing sent) is closed; WebSockets are exempt (ws clears the timeout on upgrade).
    connectionTimeout: limits.connectionTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    ...(opts.https
      ? {
          https: {
            cert: opts.https.cert,
            key: opts.https.key,
            minVersion: "TLSv1.2" as const,
            ciphers: [...TLS13_CIPHERS, ...TLS12_CIPHERS].join(":"),
            honorCipherOrder: true,
            ...checking,
          },
        }
      : { http: checking }),
  });
  // Headers must be complete sooner than the whole request (Node checks both every few seconds).
  app.server.headersTimeout = limits.headersTimeoutMs;
  const hub = new AgentHub({
    service: opts.service,
    logger: opts.logger.child({ component: "hub" }),
    maxPendingPerSource: limits.pendingAgentSocketsPerSource,
    ...opts.hub,
  });

  app.setErrorHandler(errorHandler);
  // Before every route: per-source budgets, agents apart from the rest, the admin token never limited.
  await registerRateLimits(app, limits, opts.adminTokenHash);
  app.setNotFoundHandler(notFoundHandler);
  // JSON only: text/plain and the rest get 415. An empty JSON body means "no body" (DELETE, retry).
  app.removeAllContentTypeParsers();
  const json = app.getDefaultJsonParser("error", "error");
  app.addContentTypeParser("application/json", { parseAs: "string" }, (req, body, done) => {
    if (body === "") return done(null, undefined);
    json(req, body as string, (err, value) => {
      if (err) return done(err, undefined);
      // Bounded where it enters: a 3,000-deep value would reach recursive code (zod, canonical JSON).
      if (jsonDepth(value, MAX_JSON_DEPTH) > MAX_JSON_DEPTH)
        return done(new InvalidJson(`nested deeper than ${MAX_JSON_DEPTH} levels`), undefined);
      done(null, value);
    });
  });
  app.addHook("onRequest", async (req, reply) => {
    reply.headers(SECURITY_HEADERS).header("x-request-id", req.id);
  });
  app.addHook("onResponse", async (req, reply) => {
    req.log.debug(
      { method: req.method, url: req.url, status: reply.statusCode, ms: reply.elapsedTime },
      "request",
    );
  });

  await app.register(websocket, {
    // AgentSocket is a ws.WebSocket subclass; the plugin types want the ws module type here.
    options: { maxPayload: MAX_FRAME_BYTES, WebSocket: AgentSocket as never },
    errorHandler: (err, socket) => {
      // Socket-level errors (reset peers, protocol errors) are routine with many agents.
      app.log.debug({ err: err.message }, "agent socket error");
      if (socket.readyState === socket.OPEN) socket.terminate();
    },
    preClose: async () => {
      await hub.shutdown();
      // Sockets we had already refused may still be in their close handshake: end them too.
      for (const socket of app.websocketServer.clients) socket.terminate();
    },
  });

  const publicUrl = opts.publicUrl;
  const deps: RouteDeps = {
    service: opts.service,
    publicUrl: () => (typeof publicUrl === "string" ? publicUrl : publicUrl()).replace(/\/+$/, ""),
    pin: opts.pin,
  };
  // First: it records every route registered after it (the OpenAPI test holds them to the document).
  openapiRoutes(app, pkg.version);
  openRoutes(app, opts.service, opts.bootstrapScript);
  readinessRoutes(app);
  if (opts.artifactsDir) await app.register(artifactsRoutes, { dir: opts.artifactsDir });
  if (opts.images) await app.register(imagesRoutes, { images: opts.images });
  await app.register(consoleRoutes, opts.consoleDir ? { dir: opts.consoleDir } : {});
  app.route({
    method: "GET",
    url: "/v1/agent",
    // Before the handshake: a source already holding its share of unauthenticated sockets gets a
    // 429 in the error shape (the agent retries with backoff), not another WebSocket.
    onRequest: async (req) => {
      if (req.raw.headers.upgrade && !hub.mayAccept(req.ip))
        throw Object.assign(
          new Error("too many unauthenticated agent connections from this address; retry later"),
          {
            statusCode: 429,
          },
        );
    },
    handler: async () => {
      throw new WebSocketUpgradeRequired("/v1/agent");
    },
    wsHandler: (socket, req) => hub.accept(socket, req.ip),
  });
  metricsRoutes(app, {
    service: opts.service,
    tokenHashes: [opts.adminTokenHash, ...(opts.metricsTokenHash ? [opts.metricsTokenHash] : [])],
    agentSockets: () => hub.connections,
  });
  await app.register(async (admin) => {
    // Counted before the token check (a route's own rate-limit hook runs after it): floods of wrong
    // tokens spend the anonymous budget; the admin token is never limited.
    admin.addHook("onRequest", app.rateLimit());
    admin.addHook("onRequest", requireAdmin(opts.adminTokenHash));
    // Every admin call that changes something leaves an audit line and event (audit.ts).
    admin.addHook("onSend", auditHook({ service: opts.service, adminTokenHash: opts.adminTokenHash }));
    clusterRoutes(admin, deps);
    joinTokenRoutes(admin, deps);
    nodeRoutes(admin, deps);
    eventRoutes(admin, deps);
    operationRoutes(admin, deps);
    backupRoutes(admin, deps);
    kubeconfigRoutes(admin, deps);
  });
  app.decorate("hub", hub);
  // A fastify instance is thenable (it resolves to itself once ready), so this returns it ready.
  await app.ready();
  return app as unknown as MusterApp;
}
