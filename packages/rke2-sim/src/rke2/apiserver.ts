// The kube-apiserver stand-in on :6443: /readyz is ok only while the local etcd is healthy and this
// member votes (a learner's apiserver is not ready), and /api/v1/nodes serves the Node objects kept
// in etcd. Reads are anonymous here (a real apiserver wants credentials; documented in README).
import type { ServerContext } from "./context.ts";
import * as etcd from "./etcd-client.ts";
import { json, type Listener, listenHttps, ok, plain, type Reply } from "./http.ts";
import { getNode, listNodes } from "./nodes.ts";

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

async function route(ctx: ServerContext, method: string, rawUrl: string): Promise<Reply> {
  const p = new URL(rawUrl, "https://apiserver").pathname;
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
  const endpoints = ctx.etcd?.localEndpoints ?? [];
  if (p === "/api/v1/nodes") return json(await listNodes(endpoints));
  const one = /^\/api\/v1\/nodes\/([^/]+)$/.exec(p);
  if (one) {
    const node = await getNode(endpoints, decodeURIComponent(one[1]!));
    return node ? json(node) : status(404, "NotFound", `nodes "${one[1]}" not found`);
  }
  return status(404, "NotFound", "the server could not find the requested resource");
}

export function startApiserver(ctx: ServerContext): Promise<Listener> {
  return listenHttps(ctx.serving, ctx.cfg.bindAddress, 6443, (req) =>
    route(ctx, req.method ?? "GET", req.url ?? "/"),
  );
}
