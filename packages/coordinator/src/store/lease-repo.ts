import type { Db } from "./db.ts";

// The cluster-wide control-plane lease (docs/architecture.md, invariants 2 and 9): held by one
// server join or one control-plane operation (removal, upgrade step, restore) at a time. One row at
// most: taking a held lease fails at the database, so even a planner bug cannot put two in flight.
export interface JoinLease {
  kind: "server-join";
  node: string;
  since: number;
}
export interface OperationLease {
  kind: "operation";
  operationId: string;
  node: string | null;
  since: number;
}
export type Lease = JoinLease | OperationLease;

type Row = { kind: string; node: string | null; operation_id: string | null; since: number };

export function createLeaseRepo(db: Db) {
  const get = db.sql.prepare("SELECT kind, node, operation_id, since FROM lease WHERE id = 1");
  const takeJoin = db.sql.prepare(
    "INSERT INTO lease (id, kind, node, since) VALUES (1, 'server-join', ?, ?)",
  );
  const takeOperation = db.sql.prepare(
    "INSERT INTO lease (id, kind, node, operation_id, since) VALUES (1, 'operation', ?, ?, ?)",
  );
  const releaseJoin = db.sql.prepare("DELETE FROM lease WHERE id = 1 AND kind = 'server-join' AND node = ?");
  const releaseOperation = db.sql.prepare(
    "DELETE FROM lease WHERE id = 1 AND kind = 'operation' AND operation_id = ?",
  );

  function current(): Lease | null {
    const row = get.get() as Row | undefined;
    if (!row) return null;
    return row.kind === "operation"
      ? { kind: "operation", operationId: row.operation_id!, node: row.node, since: row.since }
      : { kind: "server-join", node: row.node!, since: row.since };
  }

  return {
    /** Whoever holds the lease: a server join or an operation. */
    current,
    /** The lease when a server join holds it (the planner's view of joins). */
    get(): JoinLease | null {
      const lease = current();
      return lease?.kind === "server-join" ? lease : null;
    },
    /** A server's join takes the lease. Throws when it is already held (by anyone). */
    take(node: string, since: number): void {
      takeJoin.run(node, since);
    },
    /** Releases the lease only if `node`'s join holds it; returns whether it did. */
    release(node: string): boolean {
      return Number(releaseJoin.run(node).changes) > 0;
    },
    /** A control-plane operation takes the lease. Throws when it is already held. */
    takeForOperation(operationId: string, node: string | null, since: number): void {
      takeOperation.run(node, operationId, since);
    },
    releaseOperation(operationId: string): boolean {
      return Number(releaseOperation.run(operationId).changes) > 0;
    },
  };
}

export type LeaseRepo = ReturnType<typeof createLeaseRepo>;
