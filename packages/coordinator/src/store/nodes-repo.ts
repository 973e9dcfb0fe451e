import type { CheckResult, NodeFacts, NodeState, Role } from "@muster/shared";
import type { Db } from "./db.ts";

// Node rows. Times are epoch milliseconds; JSON columns are parsed here so callers see plain data.
export interface NodeRecord {
  id: number;
  name: string;
  machineId: string;
  role: Role;
  init: boolean;
  state: NodeState;
  address: string;
  facts: NodeFacts;
  checks: CheckResult[] | null;
  checksRequestId: string | null;
  message: string | null;
  phase: string | null;
  credentialHash: string;
  planChecksum: string | null;
  /** The sealed plan without config.token (see plan-builder.ts). */
  plan: string | null;
  releasedAt: number | null;
  stateSince: number;
  enrolledAt: number;
  joinedAt: number | null;
  connected: boolean;
  lastSeen: number | null;
  attempts: number;
}

export interface NewNode {
  name: string;
  machineId: string;
  role: Role;
  address: string;
  facts: NodeFacts;
  credentialHash: string;
  now: number;
}

/** Fields a state change may set; anything omitted is left as it is. */
export type NodeChanges = Partial<
  Pick<
    NodeRecord,
    | "init"
    | "state"
    | "address"
    | "facts"
    | "checks"
    | "checksRequestId"
    | "message"
    | "phase"
    | "credentialHash"
    | "planChecksum"
    | "plan"
    | "releasedAt"
    | "stateSince"
    | "joinedAt"
    | "connected"
    | "lastSeen"
    | "attempts"
  >
>;

const COLUMNS: Record<keyof NodeChanges, string> = {
  init: "init",
  state: "state",
  address: "address",
  facts: "facts",
  checks: "checks",
  checksRequestId: "checks_request_id",
  message: "message",
  phase: "phase",
  credentialHash: "credential_hash",
  planChecksum: "plan_checksum",
  plan: "plan",
  releasedAt: "released_at",
  stateSince: "state_since",
  joinedAt: "joined_at",
  connected: "connected",
  lastSeen: "last_seen",
  attempts: "attempts",
};

type Row = Record<string, string | number | null>;

function toRecord(r: Row): NodeRecord {
  return {
    id: r["id"] as number,
    name: r["name"] as string,
    machineId: r["machine_id"] as string,
    role: r["role"] as Role,
    init: r["init"] === 1,
    state: r["state"] as NodeState,
    address: r["address"] as string,
    facts: JSON.parse(r["facts"] as string) as NodeFacts,
    checks: r["checks"] === null ? null : (JSON.parse(r["checks"] as string) as CheckResult[]),
    checksRequestId: r["checks_request_id"] as string | null,
    message: r["message"] as string | null,
    phase: r["phase"] as string | null,
    credentialHash: r["credential_hash"] as string,
    planChecksum: r["plan_checksum"] as string | null,
    plan: r["plan"] as string | null,
    releasedAt: r["released_at"] as number | null,
    stateSince: r["state_since"] as number,
    enrolledAt: r["enrolled_at"] as number,
    joinedAt: r["joined_at"] as number | null,
    connected: r["connected"] === 1,
    lastSeen: r["last_seen"] as number | null,
    attempts: r["attempts"] as number,
  };
}

function toColumn(key: keyof NodeChanges, value: unknown): string | number | null {
  if (value === null || value === undefined) return null;
  if (typeof value === "boolean") return value ? 1 : 0;
  if (key === "facts" || key === "checks") return JSON.stringify(value);
  return value as string | number;
}

export function createNodesRepo(db: Db) {
  const byName = db.sql.prepare("SELECT * FROM nodes WHERE name = ?");
  const byMachine = db.sql.prepare("SELECT * FROM nodes WHERE machine_id = ?");
  const all = db.sql.prepare("SELECT * FROM nodes ORDER BY id");
  const insert = db.sql.prepare(
    `INSERT INTO nodes (name, machine_id, role, state, address, facts, credential_hash, state_since, enrolled_at)
     VALUES (:name, :machineId, :role, 'enrolled', :address, :facts, :credentialHash, :now, :now)`,
  );

  return {
    get(name: string): NodeRecord | null {
      const row = byName.get(name) as Row | undefined;
      return row ? toRecord(row) : null;
    },
    byMachineId(machineId: string): NodeRecord | null {
      const row = byMachine.get(machineId) as Row | undefined;
      return row ? toRecord(row) : null;
    },
    list(): NodeRecord[] {
      return (all.all() as Row[]).map(toRecord);
    },
    insert(node: NewNode): NodeRecord {
      insert.run({ ...node, facts: JSON.stringify(node.facts) });
      return this.get(node.name)!;
    },
    update(name: string, changes: NodeChanges): void {
      const keys = Object.keys(changes) as (keyof NodeChanges)[];
      if (keys.length === 0) return;
      const set = keys.map((k) => `${COLUMNS[k]} = :${k}`).join(", ");
      const params: Record<string, string | number | null> = { name };
      for (const k of keys) params[k] = toColumn(k, changes[k]);
      db.sql.prepare(`UPDATE nodes SET ${set} WHERE name = :name`).run(params);
    },
    /** After a restart no link survives: every node starts disconnected. */
    markAllDisconnected(): void {
      db.sql.exec("UPDATE nodes SET connected = 0");
    },
  };
}

export type NodesRepo = ReturnType<typeof createNodesRepo>;
