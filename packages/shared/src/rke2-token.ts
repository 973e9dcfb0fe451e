import { createHash, randomBytes } from "node:crypto";

// RKE2/K3s token format (docs/rke2-behaviour.md "Token"): K10<sha256 of CA PEM>::<user>:<password>.
// A "bare" token is just the password; it works but skips CA pinning.
export type Rke2TokenUser = "server" | "node";

export interface Rke2Token {
  caHash: string | null;
  user: Rke2TokenUser | null;
  password: string;
}

const FULL = /^K10([0-9a-f]{64})::(server|node):(.+)$/;
const PASSWORD = /^[A-Za-z0-9._~+/=-]{1,256}$/;

export function parseRke2Token(raw: string): Rke2Token {
  const token = raw.trim();
  const full = FULL.exec(token);
  if (full) {
    const [, caHash, user, password] = full;
    if (!PASSWORD.test(password!)) throw new Error("RKE2 token password has invalid characters");
    return { caHash: caHash!, user: user as Rke2TokenUser, password: password! };
  }
  if (token.startsWith("K10"))
    throw new Error("RKE2 token starts with K10 but is not K10<64 hex>::<user>:<pw>");
  if (!PASSWORD.test(token)) throw new Error("RKE2 token must be K10<hash>::server:<pw> or a bare password");
  return { caHash: null, user: null, password: token };
}

export function isValidRke2Token(raw: string): boolean {
  try {
    parseRke2Token(raw);
    return true;
  } catch {
    return false;
  }
}

export function formatRke2Token(
  caPem: string | Buffer,
  password: string,
  user: Rke2TokenUser = "server",
): string {
  return `K10${caHash(caPem)}::${user}:${password}`;
}

export function caHash(caPem: string | Buffer): string {
  return createHash("sha256").update(caPem).digest("hex");
}

/** A password like RKE2 generates: 32 hex chars. */
export function generateRke2Password(): string {
  return randomBytes(16).toString("hex");
}

/** True when the token pins this CA (or is bare, and so pins nothing). */
export function tokenMatchesCa(token: Rke2Token, caPem: string | Buffer): boolean {
  return token.caHash === null || token.caHash === caHash(caPem);
}
