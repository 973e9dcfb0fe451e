import { AdminTokenInvalid, AdminTokenMissing, secretMatchesHash } from "@muster/shared";
import type { FastifyReply, FastifyRequest } from "fastify";

// Admin routes need `Authorization: Bearer <admin token>`, compared in constant time against the
// token's SHA-256 (server/admin-token.ts keeps the token itself).

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/** Throws UNAUTHORIZED unless the request carries `Authorization: Bearer <admin token>`. */
export function requireAdmin(adminTokenHash: string) {
  return async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const header = req.headers.authorization;
    if (header === undefined || header === "") {
      reply.header("www-authenticate", 'Bearer realm="muster"');
      throw new AdminTokenMissing();
    }
    const match = BEARER.exec(header);
    if (!match || !secretMatchesHash(match[1]!, adminTokenHash)) {
      reply.header("www-authenticate", 'Bearer realm="muster", error="invalid_token"');
      throw new AdminTokenInvalid();
    }
  };
}
