import {
  DEFAULT_JOIN_TOKEN_TTL,
  generateJoinToken,
  hashSecret,
  JoinTokenExpired,
  type JoinTokenInfo,
  JoinTokenInvalid,
  JoinTokenNotFound,
  JoinTokenRevoked,
  JoinTokenUsedUp,
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

export interface JoinTokenOptions {
  replace?: boolean | undefined;
  maxUses?: number | undefined;
}

/** What a valid join token admits. */
export interface JoinGrant {
  id: string;
  role: Role;
  expiresAt: string;
  /** Minted with --replace: may take over a known node identity. */
  replace: boolean;
}

export function createJoinTokens(deps: JoinTokenDeps) {
  const { store, now } = deps;

  return {
    create(role: Role, ttlSeconds = DEFAULT_JOIN_TOKEN_TTL, opts: JoinTokenOptions = {}): JoinTokenIssued {
      const { id, secret, token } = generateJoinToken();
      const createdAt = now();
      const expiresAt = createdAt + ttlSeconds * 1000;
      const replace = opts.replace === true;
      const maxUses = opts.maxUses ?? null;
      store.tx(() => {
        store.tokens.insert({
          id,
          secretHash: hashSecret(secret),
          role,
          createdAt,
          expiresAt,
          maxUses,
          replace,
        });
        const limits = [
          maxUses === null ? "" : `, at most ${maxUses} use(s)`,
          replace ? ", may take over a known node identity (--replace)" : "",
        ].join("");
        store.events.append(
          "join-token.created",
          null,
          `join token ${id} created for ${role}s, expires ${iso(expiresAt)}${limits}`,
        );
      });
      return {
        id,
        token,
        role,
        expiresAt: iso(expiresAt),
        ...(maxUses === null ? {} : { maxUses }),
        ...(replace ? { replace } : {}),
      };
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
        ...(r.maxUses === null ? {} : { maxUses: r.maxUses }),
        ...(r.lastUsedAt === null ? {} : { lastUsedAt: iso(r.lastUsedAt) }),
        ...(r.replace ? { replace: true } : {}),
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
    verify(presented: string): JoinGrant {
      const parts = parseJoinToken(presented);
      if (!parts) throw new JoinTokenInvalid();
      const record = store.tokens.get(parts.id);
      const matches = secretMatchesHash(parts.secret, record?.secretHash ?? DUMMY_HASH);
      if (!record || !matches) throw new JoinTokenInvalid();
      // Only a holder of the secret learns whether it was revoked or expired.
      if (record.revokedAt !== null) throw new JoinTokenRevoked(record.id);
      if (record.expiresAt <= now()) throw new JoinTokenExpired(record.id, iso(record.expiresAt));
      if (record.maxUses !== null && record.uses >= record.maxUses)
        throw new JoinTokenUsedUp(record.id, record.uses);
      return { id: record.id, role: record.role, expiresAt: iso(record.expiresAt), replace: record.replace };
    },
  };
}

export type JoinTokens = ReturnType<typeof createJoinTokens>;
