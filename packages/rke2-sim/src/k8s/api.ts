// The slice of the Kubernetes REST API the simulated cluster serves on :6443, over the objects in etcd
// (./store.ts): nodes (get, list, patch, delete), pods (list with fieldSelector spec.nodeName, delete,
// the eviction subresource), secrets (get, list, delete), leases and daemonsets (get, list). Errors are
// metav1.Status objects with the apiserver's reasons and messages. Who may do what: ./auth.ts.
import type http from "node:http";
import { json, type Reply } from "../rke2/http.ts";
import { listNodes } from "../rke2/nodes.ts";
import type { User } from "./auth.ts";
import { authorize } from "./auth.ts";
import { mergePatch } from "./merge-patch.ts";
import type { Pod } from "./pods.ts";
import { ApiError, type KubeObject, RESOURCES, type ResourceName, type Store } from "./store.ts";

export function status(code: number, reason: string, message: string): Reply {
  return json(
    { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason, code },
    code,
  );
}

const list = (kind: string, apiVersion: string, resourceVersion: string, items: unknown[]) => ({
  kind: `${kind}List`,
  apiVersion,
  metadata: { resourceVersion },
  items,
});

interface Route {
  res: ResourceName;
  namespace?: string;
  name?: string;
  sub?: string;
}

/** /api/v1/[namespaces/<ns>/]<plural>[/<name>[/<sub>]] and /apis/<group>/<version>/... */
function parsePath(p: string): Route | null {
  const m =
    /^\/api\/v1\/(?:namespaces\/([^/]+)\/)?([a-z]+)(?:\/([^/]+))?(?:\/([a-z]+))?$/.exec(p) ??
    /^\/apis\/(?:coordination\.k8s\.io|apps)\/v1\/(?:namespaces\/([^/]+)\/)?([a-z]+)(?:\/([^/]+))?(?:\/([a-z]+))?$/.exec(
      p,
    );
  if (!m) return null;
  const [, namespace, plural, name, sub] = m;
  if (!(plural! in RESOURCES)) return null;
  const res = plural as ResourceName;
  const route: Route = { res };
  if (namespace) route.namespace = decodeURIComponent(namespace);
  if (name) route.name = decodeURIComponent(name);
  if (sub) route.sub = sub;
  return route;
}

/** fieldSelector=spec.nodeName=X (the one pods selector kubectl drain needs), labelSelector=k=v,k2. */
function selects(obj: KubeObject, url: URL): boolean {
  const field = url.searchParams.get("fieldSelector");
  if (field) {
    for (const term of field.split(",")) {
      const [k, v] = term.split(/!?=+/);
      const actual =
        k === "spec.nodeName"
          ? ((obj as Pod).spec?.nodeName ?? "")
          : k === "metadata.name"
            ? obj.metadata.name
            : undefined;
      if (actual === undefined) throw new ApiError(400, "BadRequest", `field label not supported: ${k}`);
      if (term.includes("!=") ? actual === v : actual !== v) return false;
    }
  }
  const labels = url.searchParams.get("labelSelector");
  if (labels) {
    for (const term of labels.split(",")) {
      const [k, v] = term.split("=");
      const have = obj.metadata.labels?.[k!];
      if (v === undefined ? have === undefined : have !== v) return false;
    }
  }
  return true;
}

async function evict(store: Store, route: Route, body: string): Promise<Reply> {
  const ev = JSON.parse(body || "{}") as { metadata?: { name?: string } };
  if (ev.metadata?.name && ev.metadata.name !== route.name) {
    return status(400, "BadRequest", `name in URL does not match name in Eviction object`);
  }
  // No PodDisruptionBudgets exist in the simulated cluster, so every eviction is allowed at once.
  await store.delete("pods", route.namespace, route.name!);
  return json({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", code: 201 }, 201);
}

export async function handleApi(
  store: Store,
  req: http.IncomingMessage,
  body: string,
  user: User | null,
): Promise<Reply> {
  const url = new URL(req.url ?? "/", "https://apiserver");
  const method = req.method ?? "GET";
  const route = parsePath(url.pathname);
  if (!route) return status(404, "NotFound", "the server could not find the requested resource");
  const r = RESOURCES[route.res];
  const verb =
    method === "GET"
      ? route.name
        ? "get"
        : "list"
      : method === "DELETE"
        ? "delete"
        : method === "PATCH"
          ? "patch"
          : method === "POST"
            ? "create"
            : method === "PUT"
              ? "update"
              : "";
  const denied = authorize(user, verb, route.res, route.namespace);
  if (denied) return status(denied.code, denied.reason, denied.message);
  try {
    if (route.sub === "eviction" && route.res === "pods" && method === "POST")
      return await evict(store, route, body);
    if (route.sub) return status(404, "NotFound", "the server could not find the requested resource");
    if (r.namespaced && route.name && !route.namespace)
      return status(404, "NotFound", "the server could not find the requested resource");
    if (verb === "list") {
      if (route.res === "nodes") {
        const nodes = await listNodes(store);
        return json({ ...nodes, items: nodes.items.filter((n) => selects(n, url)) });
      }
      const { items, resourceVersion } = await store.list(route.res, route.namespace);
      return json(
        list(
          r.kind,
          r.apiVersion,
          resourceVersion,
          items.filter((o) => selects(o, url)),
        ),
      );
    }
    if (verb === "get") {
      const obj = await store.get(route.res, route.namespace, route.name!);
      return obj ? json(obj) : status(404, "NotFound", `${r.plural} "${route.name}" not found`);
    }
    if (verb === "delete") {
      const current = await store.get(route.res, route.namespace, route.name!);
      const left = await store.delete(route.res, route.namespace, route.name!);
      return json(left ?? current);
    }
    if (verb === "patch" && route.res !== "secrets") {
      const type = req.headers["content-type"] ?? "";
      if (!/merge-patch\+json|strategic-merge-patch\+json/.test(type)) {
        return status(
          415,
          "UnsupportedMediaType",
          `the body of the request was in an unknown format - accepted media types include: application/merge-patch+json, application/strategic-merge-patch+json`,
        );
      }
      const patch = JSON.parse(body || "{}") as Record<string, unknown>;
      const updated = await store.mutate(route.res, route.namespace, route.name!, (cur) => {
        const next = mergePatch(cur, patch) as KubeObject;
        next.metadata = {
          ...next.metadata,
          name: cur.metadata.name,
          uid: cur.metadata.uid,
          resourceVersion: cur.metadata.resourceVersion!,
        };
        if (cur.metadata.namespace) next.metadata.namespace = cur.metadata.namespace;
        return next;
      });
      return json(updated);
    }
    return status(405, "MethodNotAllowed", "the server does not allow this method on the requested resource");
  } catch (err) {
    if (err instanceof ApiError) return status(err.code, err.reason, err.message);
    if (err instanceof SyntaxError) return status(400, "BadRequest", `error decoding body: ${err.message}`);
    return status(500, "InternalError", `Internal error occurred: ${(err as Error).message}`);
  }
}
