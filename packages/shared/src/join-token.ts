import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

// Join tokens follow kubeadm's bootstrap-token shape, "<id>.<secret>": the id is public (lists,
// revocation, logs), the secret is shown once and stored only as a hash.
export const JOIN_TOKEN_PATTERN = /^([a-z0-9]{6})\.([a-z0-9]{16})$/;
const ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";

export interface JoinTokenParts {
  id: string;
  secret: string;
}

function randomString(length: number): string {
  // Rejection sampling keeps every character equally likely (256 is not a multiple of 36).
  let out = "";
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 252 && out.length < length) out += ALPHABET[byte % 36];
    }
  }
  return out;
}

export function generateJoinToken(): JoinTokenParts & { token: string } {
  const id = randomString(6);
  const secret = randomString(16);
  return { id, secret, token: `${id}.${secret}` };
}

export function parseJoinToken(token: string): JoinTokenParts | null {
  const m = JOIN_TOKEN_PATTERN.exec(token);
  return m ? { id: m[1]!, secret: m[2]! } : null;
}

/** Secrets are high-entropy, so a plain SHA-256 is enough (no password-stretching needed). */
export function hashSecret(secret: string): string {
  return createHash("sha256").update(secret).digest("hex");
}

/** Constant-time comparison of a presented secret with a stored hash. */
export function secretMatchesHash(secret: string, storedHash: string): boolean {
  const a = Buffer.from(hashSecret(secret), "hex");
  const b = Buffer.from(storedHash, "hex");
  return a.length === b.length && timingSafeEqual(a, b);
}

/** A node credential: long random secret, base64url. Stored hashed like join tokens. */
export function generateCredential(): string {
  return randomBytes(32).toString("base64url");
}
