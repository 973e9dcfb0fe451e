import { CreateJoinTokenBodySchema, parseOrThrow, TokenIdParamSchema } from "@muster/shared";
import type { RouteModule } from "./deps.ts";
import { noBody, noQuery } from "./deps.ts";

/** The one-line bootstrap (docs/reference.md): -k because trust comes from the pin, not a CA. */
export function joinCommand(publicUrl: string, pin: string, token: string): string {
  return `curl -fsSL -k --pinnedpubkey '${pin}' ${publicUrl}/v1/bootstrap.sh | sudo sh -s - --token ${token}`;
}

export const joinTokenRoutes: RouteModule = (app, { service, publicUrl, pin }) => {
  app.post("/v1/join-tokens", async (req, reply) => {
    noQuery(req);
    const body = parseOrThrow(CreateJoinTokenBodySchema, req.body, "request body");
    const issued = service.createJoinToken(body);
    reply.code(201);
    return { ...issued, command: joinCommand(publicUrl(), pin, issued.token) };
  });

  app.get("/v1/join-tokens", async (req) => {
    noQuery(req);
    return { tokens: service.listJoinTokens() };
  });

  app.delete("/v1/join-tokens/:id", async (req, reply) => {
    noQuery(req);
    noBody(req);
    const { id } = parseOrThrow(TokenIdParamSchema, req.params, "path");
    service.revokeJoinToken(id);
    reply.code(204).send();
  });
};
