import type { Db } from "./db.ts";

// Small key/value facts about the cluster: the stored spec (without its token) and the sealed
// cluster and agent tokens, and whether this cluster's servers carry the agent token.
export type MetaKey = "spec" | "rke2-token" | "rke2-agent-token" | "agent-token-mode";

export function createMetaRepo(db: Db) {
  const get = db.sql.prepare("SELECT value FROM meta WHERE key = ?");
  const set = db.sql.prepare(
    "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
  );
  return {
    get(key: MetaKey): string | null {
      const row = get.get(key) as { value: string } | undefined;
      return row?.value ?? null;
    },
    set(key: MetaKey, value: string): void {
      set.run(key, value);
    },
  };
}

export type MetaRepo = ReturnType<typeof createMetaRepo>;
