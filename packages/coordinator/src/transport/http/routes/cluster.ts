import { ClusterSpecSchema, parseOrThrow } from "@muster/shared";
import type { RouteModule } from "./deps.ts";
import { noQuery } from "./deps.ts";

export const clusterRoutes: RouteModule = (app, { service }) => {
  app.get("/v1/cluster", async (req) => {
    noQuery(req);
    return service.getCluster();
  });

  app.get("/v1/whatif", async (req) => {
    noQuery(req);
    return service.getWhatIf();
  });

  app.get("/v1/cluster/spec", async (req) => {
    noQuery(req);
    return service.getSpec();
  });

  // The whole spec is replaced. `rke2.tokenSet` is what GET shows instead of the token; it is
  // read-only, so a spec fetched, edited and sent back is accepted without it.
  app.put("/v1/cluster", async (req) => {
    noQuery(req);
    const spec = parseOrThrow(ClusterSpecSchema, dropReadOnly(req.body), "cluster spec");
    return service.updateSpec(spec);
  });
};

function dropReadOnly(body: unknown): unknown {
  const rke2 = (body as { rke2?: unknown } | null)?.rke2;
  if (typeof rke2 !== "object" || rke2 === null || !("tokenSet" in rke2)) return body;
  if (typeof (rke2 as { tokenSet: unknown }).tokenSet !== "boolean") return body;
  const { tokenSet: _readOnly, ...rest } = rke2 as Record<string, unknown>;
  return { ...(body as object), rke2: rest };
}
