import type { NodeFacts } from "@muster/shared";
import type { Db } from "./db.ts";

// Claims on a known node identity (docs/architecture.md#invariant-11): a machine that presented a
// known machine id with a join token but not the node's credential. One claim per node, the latest;
// a new claim replaces an older one and its approval, so an approval is for one machine only.
export interface NodeClaim {
  node: string;
  machineId: string;
  credentialHash: string;
  address: string;
  facts: NodeFacts;
  joinTokenId: string;
  /** The address the claim came from, as the coordinator saw it. */
  remote: string;
  requestedAt: number;
  approvedAt: number | null;
}

type Row = Record<string, string | number | null>;

function toClaim(r: Row): NodeClaim {
  return {
    node: r["node"] as string,
    machineId: r["machine_id"] as string,
    credentialHash: r["credential_hash"] as string,
    address: r["address"] as string,
    facts: JSON.parse(r["facts"] as string) as NodeFacts,
    joinTokenId: r["join_token_id"] as string,
    remote: r["remote"] as string,
    requestedAt: r["requested_at"] as number,
    approvedAt: r["approved_at"] as number | null,
  };
}

export function createClaimsRepo(db: Db) {
  const get = db.sql.prepare("SELECT * FROM node_claims WHERE node = ?");
  const all = db.sql.prepare("SELECT * FROM node_claims ORDER BY requested_at, node");
  const upsert = db.sql.prepare(
    `INSERT INTO node_claims (node, machine_id, credential_hash, address, facts, join_token_id, remote, requested_at, approved_at)
     VALUES (:node, :machineId, :credentialHash, :address, :facts, :joinTokenId, :remote, :requestedAt, NULL)
     ON CONFLICT (node) DO UPDATE SET machine_id = excluded.machine_id, credential_hash = excluded.credential_hash,
       address = excluded.address, facts = excluded.facts, join_token_id = excluded.join_token_id,
       remote = excluded.remote, requested_at = excluded.requested_at, approved_at = NULL`,
  );
  const approve = db.sql.prepare("UPDATE node_claims SET approved_at = ? WHERE node = ?");
  const remove = db.sql.prepare("DELETE FROM node_claims WHERE node = ?");

  return {
    get(node: string): NodeClaim | null {
      const row = get.get(node) as Row | undefined;
      return row ? toClaim(row) : null;
    },
    list(): NodeClaim[] {
      return (all.all() as Row[]).map(toClaim);
    },
    /** Records (or replaces, un-approved) the claim on `node`. */
    put(c: Omit<NodeClaim, "approvedAt">): void {
      upsert.run({ ...c, facts: JSON.stringify(c.facts) });
    },
    approve(node: string, at: number): void {
      approve.run(at, node);
    },
    delete(node: string): void {
      remove.run(node);
    },
  };
}

export type ClaimsRepo = ReturnType<typeof createClaimsRepo>;
