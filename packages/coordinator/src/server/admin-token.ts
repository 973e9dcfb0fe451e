import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { hashSecret } from "@muster/shared";
import { writeSecret } from "./tls.ts";

// The operator's admin token. It lives in clear only in <state-dir>/admin-token (0600, readable by
// root, like RKE2's own token file); the running coordinator keeps just its SHA-256 and compares in
// constant time (transport/http/auth.ts), so a memory dump or a log line can never hand it out.
export const ADMIN_TOKEN_FILE = "admin-token";
/** Read-only scrape credential for GET /metrics (Prometheus' `credentials_file`), kept the same way. */
export const METRICS_TOKEN_FILE = "metrics-token";

export interface AdminToken {
  /** hex SHA-256 of the token. */
  hash: string;
  path: string;
  /** True when this start wrote a new token file (first start, or the file had been deleted). */
  created: boolean;
}

export function loadOrCreateAdminToken(stateDir: string): Promise<AdminToken> {
  return loadOrCreateToken(join(stateDir, ADMIN_TOKEN_FILE));
}

export function loadOrCreateMetricsToken(stateDir: string): Promise<AdminToken> {
  return loadOrCreateToken(join(stateDir, METRICS_TOKEN_FILE));
}

async function loadOrCreateToken(path: string): Promise<AdminToken> {
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
