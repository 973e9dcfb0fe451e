import type { Db } from "./db.ts";

// The cluster-wide server-join lease (docs/architecture.md, invariant 2). One row at most: taking a held lease fails at
// the database, so even a planner bug cannot put two servers in flight.
export interface Lease {
  node: string;
  since: number;
  kind: "server-join";
}

export function createLeaseRepo(db: Db) {
  const get = db.sql.prepare("SELECT node, since, kind FROM lease WHERE id = 1");
  const take = db.sql.prepare("INSERT INTO lease (id, node, since, kind) VALUES (1, ?, ?, 'server-join')");
  const release = db.sql.prepare("DELETE FROM lease WHERE id = 1 AND node = ?");

  return {
    get(): Lease | null {
      const row = get.get() as Lease | undefined;
      return row ? { node: row.node, since: row.since, kind: row.kind } : null;
    },
    /** Throws when the lease is already held (by anyone). */
    take(node: string, since: number): void {
      take.run(node, since);
    },
    /** Releases the lease only if `node` holds it; returns whether it did. */
    release(node: string): boolean {
      return Number(release.run(node).changes) > 0;
    },
  };
}

export type LeaseRepo = ReturnType<typeof createLeaseRepo>;
