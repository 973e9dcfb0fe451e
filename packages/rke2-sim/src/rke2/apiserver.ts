// The kube-apiserver stand-in on :6443: /readyz is ok only while the local etcd is healthy and this
// member votes (a learner's apiserver is not ready); /api and /apis serve the objects kept in etcd
// (k8s/api.ts), to clients authenticated by a certificate of the cluster CA (k8s/auth.ts). Like the
// real apiserver it talks to the local etcd member only.
import type http from "node:http";
import { handleApi } from "../k8s/api.ts";
import { userOf } from "../k8s/auth.ts";
import { Store } from "../k8s/store.ts";
import type { ServerContext } from "./context.ts";
import * as etcd from "./etcd-client.ts";
import { Kv } from "./etcd-kv.ts";
import { json, type Listener, listenHttps, ok, plain, type Reply } from "./http.ts";

/** Why this apiserver is not ready, or null when it is. */
export async function notReadyReason(ctx: ServerContext): Promise<string | null> {
  const e = ctx.etcd;
  if (!e) return "etcd not started";
  if (!(await etcd.healthy(e.metricsURL))) return "etcd is not healthy";
  try {
    const s = await etcd.status(e.localEndpoints);
    if (s.isLearner) return "etcd member is a learner, waiting for promotion to voter";
  } catch (err) {
    return `etcd status unavailable: ${(err as Error).message}`;
  }
  return null;
}

function status(code: number, reason: string, message: string): Reply {
  return json(
    { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason, code },
    code,
  );
}

async function route(
  ctx: ServerContext,
  req: http.IncomingMessage,
  body: string,
  store: Store,
): Promise<Reply> {
  const method = req.method ?? "GET";
  const p = new URL(req.url ?? "/", "https://apiserver").pathname;
  if (p.startsWith("/api/") || p.startsWith("/apis/")) return handleApi(store, req, body, userOf(req));
  if (method !== "GET") return status(405, "MethodNotAllowed", "the server does not allow this method");
  if (p === "/readyz" || p === "/livez" || p === "/healthz") {
    const reason = p === "/livez" ? null : await notReadyReason(ctx);
    return reason === null
      ? ok("ok")
      : plain(500, `[+]ping ok\n[-]etcd failed: ${reason}\n${p.slice(1)} check failed\n`);
  }
  if (p === "/version") {
    const [, minor = ""] = /^v1\.(\d+)/.exec(ctx.knobs.version) ?? [];
    return json({ major: "1", minor, gitVersion: ctx.knobs.version, platform: "linux/amd64" });
  }
  return status(404, "NotFound", "the server could not find the requested resource");
}

export function startApiserver(ctx: ServerContext): Promise<Listener> {
  const store = new Store(new Kv(ctx.etcd?.localEndpoints ?? []));
  return listenHttps(
    ctx.serving,
    ctx.cfg.bindAddress,
    6443,
    (req, body) => route(ctx, req, body, store),
    ctx.ca.certPem,
  );
}
