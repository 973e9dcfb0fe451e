import { CoordinatorNotReady } from "@muster/shared";
import type { FastifyInstance } from "fastify";
import { noQuery } from "./routes/deps.ts";

// GET /readyz (open) beside /healthz: /healthz says the process answers; /readyz says it is worth
// sending work to — the store is open (the service exists before the app is built) and the listener
// is up; while closing it answers 503 so a load balancer drains it first.

export function readinessRoutes(app: FastifyInstance): void {
  let closing = false;
  app.addHook("preClose", async () => {
    closing = true;
  });
  app.get("/readyz", async (req) => {
    noQuery(req);
    if (closing || !app.server.listening) throw new CoordinatorNotReady(closing);
    return { status: "ready" };
  });
}
