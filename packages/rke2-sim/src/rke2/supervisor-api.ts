// The supervisor listener on :9345 (docs/rke2-behaviour.md "Supervisor port 9345"): /ping and /cacerts are open;
// /v1-rke2/* needs Basic auth node:<pw> or server:<pw>; server-bootstrap and /db/info need the server
// role (/db/info is also open to loopback). Wrong password -> 401, missing role -> 403.
import { timingSafeEqual } from "node:crypto";
import type http from "node:http";
import { ensureNodePasswordSecret } from "../k8s/node-password.ts";
import { ApiError, Store } from "../k8s/store.ts";
import { criticalArgs, type ServerContext } from "./context.ts";
import * as etcd from "./etcd-client.ts";
import { Kv } from "./etcd-kv.ts";
import { basicAuth, json, type Listener, listenHttps, ok, plain, type Reply } from "./http.ts";
import { log } from "./log.ts";
import { heartbeat, internalIP, isReady, listNodes, registerNode } from "./nodes.ts";
import { sha256 } from "./token.ts";

type Role = "node" | "server";

function same(a: string, b: string): boolean {
  return timingSafeEqual(Buffer.from(sha256(a)), Buffer.from(sha256(b)));
}

/** null when the request may proceed, otherwise the 401/403 reply. */
function authorize(ctx: ServerContext, req: http.IncomingMessage, need: Role): Reply | null {
  const c = basicAuth(req);
  const isServer = c !== null && c.username === "server" && same(c.password, ctx.serverPassword);
  // User "node" is the rke2:agent role: the agent-token's password, or the server token's (k3s docs:
  // the server token joins agents too). User "server" (rke2:server) may also use agent endpoints.
  const isNode =
    c !== null &&
    c.username === "node" &&
    (same(c.password, ctx.agentPassword) || same(c.password, ctx.serverPassword));
  if (!isServer && !isNode) return plain(401, "Unauthorized\n");
  if (need === "server" && !isServer) return plain(403, "Forbidden\n");
  return null;
}

function fromLoopback(req: http.IncomingMessage): boolean {
  const a = req.socket.remoteAddress ?? "";
  return a.startsWith("127.") || a === "::1" || a.startsWith("::ffff:127.");
}

/** /db/info as k3s encodes etcd's MemberListResponse: uint64 IDs as JSON numbers, exactly. */
function dbInfoJSON(members: etcd.Member[]): string {
  const items = members.map((m) => {
    const fields = [`"ID":${m.id}`];
    if (m.name) fields.push(`"name":${JSON.stringify(m.name)}`);
    fields.push(`"peerURLs":${JSON.stringify(m.peerURLs)}`);
    if (m.clientURLs.length) fields.push(`"clientURLs":${JSON.stringify(m.clientURLs)}`);
    if (m.isLearner) fields.push(`"isLearner":true`);
    return `{${fields.join(",")}}`;
  });
  return `{"members":[${items.join(",")}]}\n`;
}

let lastMembers: etcd.Member[] = [];

async function members(ctx: ServerContext): Promise<etcd.Member[]> {
  if (!ctx.etcd) throw new Error("etcd not started");
  // A learner cannot answer MemberList; ask the voters it knew about instead.
  const fallbacks = lastMembers.filter((m) => !m.isLearner).flatMap((m) => m.clientURLs);
  lastMembers = await etcd.memberList([...ctx.etcd.localEndpoints, ...fallbacks]);
  return lastMembers;
}

const localStore = (ctx: ServerContext) => new Store(new Kv(ctx.etcd?.localEndpoints ?? []));

async function apiservers(ctx: ServerContext): Promise<string[]> {
  const self = `${ctx.cfg.nodeIP}:6443`;
  try {
    const list = await listNodes(localStore(ctx));
    const out = list.items
      .filter((n) => n.metadata.labels?.["node-role.kubernetes.io/control-plane"] === "true" && isReady(n))
      .map((n) => `${internalIP(n)}:6443`);
    return out.length ? out : [self];
  } catch {
    return [self];
  }
}

async function registerAgent(ctx: ServerContext, name: string, body: string): Promise<Reply> {
  if (!/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(name))
    return plain(400, `invalid node name "${name}"\n`);
  const reg = JSON.parse(body) as {
    address: string;
    password: string;
    labels?: string[];
    taints?: string[];
    heartbeat?: boolean;
  };
  if (!ctx.ready || !ctx.etcd) return plain(503, "apiserver not ready\n");
  const store = localStore(ctx);
  const registration = {
    name,
    address: reg.address,
    role: "agent" as const,
    labels: reg.labels ?? [],
    taints: reg.taints ?? [],
  };
  if (reg.heartbeat) {
    try {
      await heartbeat(store, registration, ctx.knobs.version);
      return json({ name });
    } catch (err) {
      if (err instanceof ApiError) return plain(err.code, `${err.message}\n`);
      throw err;
    }
  }
  if (!(await ensureNodePasswordSecret(store, name, reg.password))) {
    log.error(`Node password validation failed for '${name}'`);
    return plain(
      403,
      `Node password rejected, duplicate hostname or contents of '/etc/rancher/node/password' may not match server node-passwd entry, try enabling a unique node name with the --with-node-id flag\n`,
    );
  }
  await registerNode(store, registration, ctx.knobs.version);
  return json({ name });
}

async function route(ctx: ServerContext, req: http.IncomingMessage, body: string): Promise<Reply> {
  const url = new URL(req.url ?? "/", "https://supervisor");
  const p = url.pathname;
  const method = req.method ?? "GET";
  if (method === "GET" && p === "/ping") return ok("pong");
  if (method === "GET" && p === "/cacerts") return ok(ctx.ca.certPem);
  if (p === "/db/info") {
    const denied = fromLoopback(req) ? null : authorize(ctx, req, "server");
    if (denied) return denied;
    try {
      return json(dbInfoJSON(await members(ctx)));
    } catch (err) {
      return plain(500, `failed to get etcd MemberList: ${(err as Error).message}\n`);
    }
  }
  if (!p.startsWith("/v1-rke2/")) return plain(404, "404 page not found\n");
  const need: Role = p === "/v1-rke2/server-bootstrap" ? "server" : "node";
  const denied = authorize(ctx, req, need);
  if (denied) return denied;
  const nodeMatch = /^\/v1-rke2\/sim\/nodes\/([^/]+)$/.exec(p);
  if (method === "PUT" && nodeMatch) return registerAgent(ctx, decodeURIComponent(nodeMatch[1]!), body);
  if (method !== "GET") return plain(405, "method not allowed\n");
  switch (p) {
    case "/v1-rke2/readyz":
      return ctx.ready ? ok("ok") : plain(503, "apiserver not ready\n");
    case "/v1-rke2/config":
      return json({ CriticalControlArgs: criticalArgs(ctx.cfg), SupervisorPort: 9345, HTTPSPort: 6443 });
    case "/v1-rke2/apiservers":
      return json(await apiservers(ctx));
    case "/v1-rke2/server-bootstrap": {
      const file = (pem: string) => ({
        Timestamp: new Date().toISOString(),
        Content: Buffer.from(pem).toString("base64"),
      });
      return json({ ServerCA: file(ctx.ca.certPem), ServerCAKey: file(ctx.ca.keyPem) });
    }
    default:
      return plain(404, "404 page not found\n");
  }
}

export function startSupervisor(ctx: ServerContext): Promise<Listener> {
  return listenHttps(ctx.serving, ctx.cfg.bindAddress, 9345, (req, body) => route(ctx, req, body));
}
