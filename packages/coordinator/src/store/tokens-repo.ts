import type { Role } from "@muster/shared";
import type { Db } from "./db.ts";

// Join tokens: only the id and a hash of the secret are stored (docs/architecture.md, invariant 5).
export interface JoinTokenRecord {
  id: string;
  secretHash: string;
  role: Role;
  createdAt: number;
  expiresAt: number;
  revokedAt: number | null;
  uses: number;
  /** Null: no limit (until it expires). */
  maxUses: number | null;
  lastUsedAt: number | null;
  /** Minted with --replace: lets a known node identity move to the machine using it. */
  replace: boolean;
}

type Row = Record<string, string | number | null>;

function toRecord(r: Row): JoinTokenRecord {
  return {
    id: r["id"] as string,
    secretHash: r["secret_hash"] as string,
    role: r["role"] as Role,
    createdAt: r["created_at"] as number,
    expiresAt: r["expires_at"] as number,
    revokedAt: r["revoked_at"] as number | null,
    uses: r["uses"] as number,
    maxUses: (r["max_uses"] as number | null) ?? null,
    lastUsedAt: (r["last_used_at"] as number | null) ?? null,
    replace: r["replace_identity"] === 1,
  };
}

export function createTokensRepo(db: Db) {
  const get = db.sql.prepare("SELECT * FROM join_tokens WHERE id = ?");
  const all = db.sql.prepare("SELECT * FROM join_tokens ORDER BY created_at, id");
  const insert = db.sql.prepare(
    `INSERT INTO join_tokens (id, secret_hash, role, created_at, expires_at, max_uses, replace_identity)
     VALUES (:id, :secretHash, :role, :createdAt, :expiresAt, :maxUses, :replace)`,
  );
  const revoke = db.sql.prepare("UPDATE join_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL");
  const use = db.sql.prepare("UPDATE join_tokens SET uses = uses + 1, last_used_at = ? WHERE id = ?");

  return {
    get(id: string): JoinTokenRecord | null {
      const row = get.get(id) as Row | undefined;
      return row ? toRecord(row) : null;
    },
    list(): JoinTokenRecord[] {
      return (all.all() as Row[]).map(toRecord);
    },
    insert(
      t: Omit<JoinTokenRecord, "revokedAt" | "uses" | "lastUsedAt" | "maxUses" | "replace"> &
        Partial<Pick<JoinTokenRecord, "maxUses" | "replace">>,
    ): void {
      insert.run({ ...t, maxUses: t.maxUses ?? null, replace: t.replace ? 1 : 0 });
    },
    revoke(id: string, now: number): void {
      revoke.run(now, id);
    },
    countUse(id: string, at: number = Date.now()): void {
      use.run(at, id);
    },
  };
}

export type TokensRepo = ReturnType<typeof createTokensRepo>;
