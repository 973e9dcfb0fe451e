import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { generateRke2Password } from "@muster/shared";
import type { MetaRepo } from "../../store/meta-repo.ts";

// The RKE2 cluster token at rest (docs/architecture.md, invariant 5): AES-256-GCM, sealed with a key that lives in its own
// 0600 file beside (not inside) the database, so a copy of muster.db alone reveals nothing. The
// ciphertext sits in the meta table so capturing the token and recording it commit in one
// transaction. The clear token exists only in memory and in plans sent to authenticated nodes.
export const VAULT_KEY_FILE = "vault.key";
const AAD = Buffer.from("muster rke2-token v1");
// Its own associated data: a sealed agent token pasted into the token's slot does not decrypt.
const AGENT_AAD = Buffer.from("muster rke2-agent-token v1");

export interface Vault {
  /** The cluster token, or null while none is known. */
  token(): string | null;
  /** Stores the token; call inside the transaction that records why it is now known. */
  store(token: string): void;
  /** The agent-token password (docs/rke2-behaviour.md#agent-token), or null before one exists. */
  agentToken(): string | null;
  /** The agent-token password, generated (32 hex, like RKE2's) and stored when none exists yet. */
  ensureAgentToken(): string;
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

export function seal(key: Buffer, plain: string, aad: Buffer = AAD): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  cipher.setAAD(aad);
  const body = Buffer.concat([cipher.update(plain, "utf8"), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString("base64");
}

export function unseal(key: Buffer, sealed: string, aad: Buffer = AAD): string {
  const raw = Buffer.from(sealed, "base64");
  const decipher = createDecipheriv("aes-256-gcm", key, raw.subarray(0, 12));
  decipher.setAAD(aad);
  decipher.setAuthTag(raw.subarray(12, 28));
  return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString("utf8");
}

/**
 * Removes the cluster token (and its password part) from text that came from an agent, before it
 * is stored in an event or a node message: an installer's error output must not leak it
 * (docs/architecture.md, invariant 5).
 */
export function scrub(
  vault: Pick<Vault, "token"> & Partial<Pick<Vault, "agentToken">>,
  text: string,
): string {
  let out = text;
  for (const token of [vault.token(), vault.agentToken?.() ?? null]) {
    if (!token) continue;
    const password = token.includes(":") ? token.slice(token.lastIndexOf(":") + 1) : token;
    out = out.split(token).join("[redacted]");
    if (password.length >= 8) out = out.split(password).join("[redacted]");
  }
  return out;
}

export function createVault(stateDir: string, meta: Pick<MetaRepo, "get" | "set">): Vault {
  const key = loadVaultKey(stateDir);
  const token = sealedSlot(key, meta, "rke2-token", AAD, "cluster token");
  const agent = sealedSlot(key, meta, "rke2-agent-token", AGENT_AAD, "agent token");
  // fail at startup, not mid-join, when the key does not match
  token.read();
  agent.read();
  return {
    token: token.read,
    store: token.write,
    agentToken: agent.read,
    ensureAgentToken() {
      const known = agent.read();
      if (known !== null) return known;
      const fresh = generateRke2Password();
      agent.write(fresh);
      return fresh;
    },
  };
}

/**
 * One sealed value in the meta table, read through (cached by ciphertext) so a rolled-back write
 * leaves no trace in memory.
 */
function sealedSlot(
  key: Buffer,
  meta: Pick<MetaRepo, "get" | "set">,
  slot: "rke2-token" | "rke2-agent-token",
  aad: Buffer,
  what: string,
) {
  let lastSealed: string | null = null;
  let cached: string | null = null;
  return {
    read(): string | null {
      const sealed = meta.get(slot);
      if (sealed === null) return null;
      if (sealed !== lastSealed) {
        try {
          cached = unseal(key, sealed, aad);
        } catch {
          throw new Error(
            `cannot decrypt the stored ${what}: is ${VAULT_KEY_FILE} the key it was sealed with?`,
          );
        }
        lastSealed = sealed;
      }
      return cached;
    },
    write(value: string): void {
      meta.set(slot, seal(key, value, aad));
    },
  };
}
