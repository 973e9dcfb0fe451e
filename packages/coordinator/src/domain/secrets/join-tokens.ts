import {
  DEFAULT_JOIN_TOKEN_TTL,
  generateJoinToken,
  hashSecret,
  JoinTokenExpired,
  type JoinTokenInfo,
  JoinTokenInvalid,
  JoinTokenNotFound,
  JoinTokenRevoked,
  parseJoinToken,
  type Role,
  secretMatchesHash,
} from "@muster/shared";
import type { Store } from "../../store/store.ts";
import type { JoinTokenIssued } from "../service.ts";
import { iso } from "../time.ts";

// Join tokens (kubeadm bootstrap-token style): role-scoped, expiring, revocable, stored hashed.
// Error messages name what is wrong (invalid, expired, revoked) but never echo the secret.

// A fixed hash to compare against when the id is unknown, so both failures cost the same.
const DUMMY_HASH = hashSecret("muster-no-such-join-token");

export interface JoinTokenDeps {
  store: Pick<Store, "tx"> & {
    tokens: Pick<Store["tokens"], "get" | "list" | "insert" | "revoke">;
    events: Pick<Store["events"], "append">;
  };
  now(): number;
}

export function createJoinTokens(deps: JoinTokenDeps) {
  const { store, now } = deps;

  return {
    create(role: Role, ttlSeconds = DEFAULT_JOIN_TOKEN_TTL): JoinTokenIssued {
      const { id, secret, token } = generateJoinToken();
      const createdAt = now();
      const expiresAt = createdAt + ttlSeconds * 1000;
      store.tx(() => {
        store.tokens.insert({ id, secretHash: hashSecret(secret), role, createdAt, expiresAt });
        store.events.append(
          "join-token.created",
          null,
          `join token ${id} created for ${role}s, expires ${iso(expiresAt)}`,
        );
      });
      return { id, token, role, expiresAt: iso(expiresAt) };
    },

    list(): JoinTokenInfo[] {
      const t = now();
      return store.tokens.list().map((r) => ({
        id: r.id,
        role: r.role,
        createdAt: iso(r.createdAt),
        expiresAt: iso(r.expiresAt),
        revoked: r.revokedAt !== null,
        expired: r.expiresAt <= t,
        uses: r.uses,
      }));
    },

    revoke(id: string): void {
      const record = store.tokens.get(id);
      if (!record) throw new JoinTokenNotFound(id);
      if (record.revokedAt !== null) return; // revoking twice is a no-op, not an error
      store.tx(() => {
        store.tokens.revoke(id, now());
        store.events.append("join-token.revoked", null, `join token ${id} revoked`);
      });
    },

    /** Checks a presented token and returns the role it grants (its use is counted by the enrolment). */
    verify(presented: string): { id: string; role: Role; expiresAt: string } {
      const parts = parseJoinToken(presented);
      if (!parts) throw new JoinTokenInvalid();
      const record = store.tokens.get(parts.id);
      const matches = secretMatchesHash(parts.secret, record?.secretHash ?? DUMMY_HASH);
      if (!record || !matches) throw new JoinTokenInvalid();
      // Only a holder of the secret learns whether it was revoked or expired.
      if (record.revokedAt !== null) throw new JoinTokenRevoked(record.id);
      if (record.expiresAt <= now()) throw new JoinTokenExpired(record.id, iso(record.expiresAt));
      return { id: record.id, role: record.role, expiresAt: iso(record.expiresAt) };
    },
  };
}

export type JoinTokens = ReturnType<typeof createJoinTokens>;
