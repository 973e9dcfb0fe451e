import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { AdminTokenInvalid, AdminTokenMissing, hashSecret, secretMatchesHash } from "@muster/shared";
import type { FastifyReply, FastifyRequest } from "fastify";
import { writeSecret } from "../../server/tls.ts";

// The operator's admin token. It lives in clear only in <state-dir>/admin-token (0600, readable by
// root, like RKE2's own token file); the running coordinator keeps just its SHA-256 and compares in
// constant time, so a memory dump or a log line can never hand it out.

export const ADMIN_TOKEN_FILE = "admin-token";

export interface AdminToken {
  /** hex SHA-256 of the token. */
  hash: string;
  path: string;
  /** True when this start wrote a new token file (first start, or the file had been deleted). */
  created: boolean;
}

export async function loadOrCreateAdminToken(stateDir: string): Promise<AdminToken> {
  const path = join(stateDir, ADMIN_TOKEN_FILE);
  try {
    const token = (await readFile(path, "utf8")).trim();
    if (token.length < 16) throw new Error(`${path} holds no usable token (shorter than 16 characters)`);
    return { hash: hashSecret(token), path, created: false };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  const token = randomBytes(32).toString("base64url");
  await writeSecret(path, `${token}\n`);
  return { hash: hashSecret(token), path, created: true };
}

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
