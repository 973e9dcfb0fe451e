import { BootstrapScriptUnavailable, MachineIdSchema, parseOrThrow } from "@muster/shared";
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { CoordinatorService } from "../../../domain/service.ts";
import { noQuery } from "./deps.ts";

// The open endpoints: liveness for load balancers, the bootstrap script (it holds no secret: the
// join token is passed to it on the command line, the pin protects the download), and the join
// token check the bootstrap runs before it changes anything on the node. That check answers only
// valid/invalid (role, expiry): no oracle beyond the token itself, whose 82-bit secret makes
// guessing hopeless; with the machine's id it also refuses (409) a token whose role differs from
// the one that machine is enrolled as, which only a valid token learns. (The bundles the script
// downloads are served by delivery/artifacts-routes.ts.)
export const VerifyBodySchema = z.strictObject({
  token: z.string().min(1).max(64),
  machineId: MachineIdSchema.optional(),
});

export function openRoutes(
  app: FastifyInstance,
  service: Pick<CoordinatorService, "verifyJoinToken">,
  bootstrapScript?: () => string,
): void {
  app.get("/healthz", async (req) => {
    noQuery(req);
    return { status: "ok" };
  });

  app.get("/v1/bootstrap.sh", async (req, reply) => {
    noQuery(req);
    if (!bootstrapScript) throw new BootstrapScriptUnavailable();
    reply.type("text/x-shellscript; charset=utf-8");
    return bootstrapScript();
  });

  // Checks a join token without using it up: 200 {id, role, expiresAt}, 401 with the reason, or 409
  // when the machine (its machine id, if sent) is enrolled under the other role.
  app.post("/v1/bootstrap/verify", async (req) => {
    noQuery(req);
    const { token, machineId } = parseOrThrow(VerifyBodySchema, req.body, "request body");
    return service.verifyJoinToken(token, machineId);
  });
}
