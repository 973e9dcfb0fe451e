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
  };
}

export function createTokensRepo(db: Db) {
  const get = db.sql.prepare("SELECT * FROM join_tokens WHERE id = ?");
  const all = db.sql.prepare("SELECT * FROM join_tokens ORDER BY created_at, id");
  const insert = db.sql.prepare(
    `INSERT INTO join_tokens (id, secret_hash, role, created_at, expires_at)
     VALUES (:id, :secretHash, :role, :createdAt, :expiresAt)`,
  );
  const revoke = db.sql.prepare("UPDATE join_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL");
  const use = db.sql.prepare("UPDATE join_tokens SET uses = uses + 1 WHERE id = ?");

  return {
    get(id: string): JoinTokenRecord | null {
      const row = get.get(id) as Row | undefined;
      return row ? toRecord(row) : null;
    },
    list(): JoinTokenRecord[] {
      return (all.all() as Row[]).map(toRecord);
    },
    insert(t: Omit<JoinTokenRecord, "revokedAt" | "uses">): void {
      insert.run({ ...t });
    },
    revoke(id: string, now: number): void {
      revoke.run(now, id);
    },
    countUse(id: string): void {
      use.run(id);
    },
  };
}

export type TokensRepo = ReturnType<typeof createTokensRepo>;
