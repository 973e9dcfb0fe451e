import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { MetaRepo } from "../../store/meta-repo.ts";

// The RKE2 cluster token at rest (docs/architecture.md, invariant 5): AES-256-GCM, sealed with a key that lives in its own
// 0600 file beside (not inside) the database, so a copy of muster.db alone reveals nothing. The
// ciphertext sits in the meta table so capturing the token and recording it commit in one
// transaction. The clear token exists only in memory and in plans sent to authenticated nodes.
export const VAULT_KEY_FILE = "vault.key";
const AAD = Buffer.from("muster rke2-token v1");

export interface Vault {
  /** The cluster token, or null while none is known. */
  token(): string | null;
  /** Stores the token; call inside the transaction that records why it is now known. */
  store(token: string): void;
}

export function loadVaultKey(stateDir: string): Buffer {
  const path = join(stateDir, VAULT_KEY_FILE);
  try {
    // "wx": never overwrite an existing key, or every sealed token becomes unreadable.
    writeFileSync(path, randomBytes(32), { mode: 0o600, flag: "wx" });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  }
  chmodSync(path, 0o600);
  const key = readFileSync(path);
  if (key.length !== 32) throw new Error(`${path} must hold 32 bytes; it holds ${key.length}`);
  return key;
}

export function seal(key: Buffer, plain: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  cipher.setAAD(AAD);
  const body = Buffer.concat([cipher.update(plain, "utf8"), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString("base64");
}

export function unseal(key: Buffer, sealed: string): string {
  const raw = Buffer.from(sealed, "base64");
  const decipher = createDecipheriv("aes-256-gcm", key, raw.subarray(0, 12));
  decipher.setAAD(AAD);
  decipher.setAuthTag(raw.subarray(12, 28));
  return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString("utf8");
}

/**
 * Removes the cluster token (and its password part) from text that came from an agent, before it
 * is stored in an event or a node message: an installer's error output must not leak it
 * (docs/architecture.md, invariant 5).
 */
export function scrub(vault: Pick<Vault, "token">, text: string): string {
  const token = vault.token();
  if (!token) return text;
  const password = token.includes(":") ? token.slice(token.lastIndexOf(":") + 1) : token;
  let out = text.split(token).join("[redacted]");
  if (password.length >= 8) out = out.split(password).join("[redacted]");
  return out;
}

export function createVault(stateDir: string, meta: Pick<MetaRepo, "get" | "set">): Vault {
  const key = loadVaultKey(stateDir);
  // Read through the meta table (cached by ciphertext) so a rolled-back store() leaves no trace.
  let lastSealed: string | null = null;
  let cached: string | null = null;
  const token = (): string | null => {
    const sealed = meta.get("rke2-token");
    if (sealed === null) return null;
    if (sealed !== lastSealed) {
      try {
        cached = unseal(key, sealed);
      } catch {
        throw new Error(
          `cannot decrypt the stored cluster token: is ${VAULT_KEY_FILE} the key it was sealed with?`,
        );
      }
      lastSealed = sealed;
    }
    return cached;
  };
  token(); // fail at startup, not mid-join, when the key does not match
  return {
    token,
    store(value: string) {
      meta.set("rke2-token", seal(key, value));
    },
  };
}
