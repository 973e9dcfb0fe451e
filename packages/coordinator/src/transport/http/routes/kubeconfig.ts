import type { RouteModule } from "./deps.ts";
import { noQuery } from "./deps.ts";

/**
 * The admin kubeconfig (admin only). Its content is a secret: the audit hook logs that it was handed
 * out and to whom, never the body; no-store keeps it out of caches.
 */
export const kubeconfigRoutes: RouteModule = (app, { service }) => {
  app.get("/v1/kubeconfig", async (req, reply) => {
    noQuery(req);
    const view = await service.getKubeconfig();
    reply.header("cache-control", "no-store");
    return view;
  });
};
