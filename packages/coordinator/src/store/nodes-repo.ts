import type { StatementSync } from "node:sqlite";
import type { CheckResult, NodeFacts, NodeState, Role } from "@muster/shared";
import type { Db } from "./db.ts";
import { type NodeSummary, SUMMARY_COLUMNS, summaryOf, withChanges } from "./node-summaries.ts";

// Node rows. Times are epoch milliseconds; JSON columns are parsed here so callers see plain data.
// Hot paths read summaries from memory (node-summaries.ts); full records come from the database.

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

/** A record as the node views show it: no facts, plan or credential hash (views.ts). */
export type NodeListing = Omit<NodeRecord, "facts" | "plan" | "credentialHash" | "machineId">;

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

const LISTING_COLUMNS =
  "id, name, role, init, state, address, checks, checks_request_id, message, phase, plan_checksum, released_at, state_since, enrolled_at, joined_at, connected, last_seen, attempts";

function toListing(r: Row): NodeListing {
  return {
    id: r["id"] as number,
    name: r["name"] as string,
    role: r["role"] as Role,
    init: r["init"] === 1,
    state: r["state"] as NodeState,
    address: r["address"] as string,
    checks: r["checks"] === null ? null : (JSON.parse(r["checks"] as string) as CheckResult[]),
    checksRequestId: r["checks_request_id"] as string | null,
    message: r["message"] as string | null,
    phase: r["phase"] as string | null,
    planChecksum: r["plan_checksum"] as string | null,
    releasedAt: r["released_at"] as number | null,
    stateSince: r["state_since"] as number,
    enrolledAt: r["enrolled_at"] as number,
    joinedAt: r["joined_at"] as number | null,
    connected: r["connected"] === 1,
    lastSeen: r["last_seen"] as number | null,
    attempts: r["attempts"] as number,
  };
}

function toRecord(r: Row): NodeRecord {
  return {
    ...toListing(r),
    machineId: r["machine_id"] as string,
    facts: JSON.parse(r["facts"] as string) as NodeFacts,
    credentialHash: r["credential_hash"] as string,
    plan: r["plan"] as string | null,
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
  const servers = db.sql.prepare("SELECT * FROM nodes WHERE role = 'server' ORDER BY id");
  const listing = db.sql.prepare(`SELECT ${LISTING_COLUMNS} FROM nodes ORDER BY id`);
  const summaryRows = db.sql.prepare(`SELECT ${SUMMARY_COLUMNS} FROM nodes ORDER BY id`);
  const insert = db.sql.prepare(
    `INSERT INTO nodes (name, machine_id, role, state, address, facts, credential_hash, state_since, enrolled_at)
     VALUES (:name, :machineId, :role, 'enrolled', :address, :facts, :credentialHash, :now, :now)`,
  );
  const updates = new Map<string, StatementSync>();

  const loadSummaries = () => (summaryRows.all() as Row[]).map(summaryOf);
  // The write-through cache (node-summaries.ts): in enrolment order, as Maps keep insertion order.
  const cache = new Map<string, NodeSummary>(loadSummaries().map((s) => [s.name, s]));
  let initName = [...cache.values()].find((s) => s.init)?.name ?? null;

  /** Puts a summary in the cache; undone if the transaction that wrote the row rolls back. */
  function put(name: string, next: NodeSummary | undefined): void {
    const prev = cache.get(name);
    if (prev === next) return;
    db.onRollback(() => put(name, prev));
    if (next === undefined) cache.delete(name);
    else cache.set(name, next);
    if (next?.init) initName = name;
    else if (initName === name) initName = null;
  }

  return {
    /** The full record, read from the database (facts, checks and plan parsed). */
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
    /** Full records of the servers (cross-node checks compare their facts). */
    servers(): NodeRecord[] {
      return (servers.all() as Row[]).map(toRecord);
    },
    /** What the node views show, without facts, plan or credential hash. */
    listings(): NodeListing[] {
      return (listing.all() as Row[]).map(toListing);
    },
    /** From memory: the node's summary, or null. */
    summary(name: string): NodeSummary | null {
      return cache.get(name) ?? null;
    },
    /** From memory: every node's summary, in enrolment order (a fresh array; the summaries are frozen). */
    summaries(): NodeSummary[] {
      return [...cache.values()];
    },
    /** From memory: the init server's summary, or null before one was released. */
    initNode(): NodeSummary | null {
      return initName === null ? null : (cache.get(initName) ?? null);
    },
    /** Summaries read from the database now, bypassing the cache (what a restart would load). */
    summariesFromDatabase(): NodeSummary[] {
      return loadSummaries();
    },
    insert(node: NewNode): NodeRecord {
      insert.run({ ...node, facts: JSON.stringify(node.facts) });
      const row = byName.get(node.name) as Row;
      put(node.name, summaryOf(row));
      return toRecord(row);
    },
    update(name: string, changes: NodeChanges): void {
      const keys = Object.keys(changes) as (keyof NodeChanges)[];
      if (keys.length === 0) return;
      const shape = keys.join(",");
      let statement = updates.get(shape);
      if (!statement) {
        const set = keys.map((k) => `${COLUMNS[k]} = :${k}`).join(", ");
        statement = db.sql.prepare(`UPDATE nodes SET ${set} WHERE name = :name`);
        updates.set(shape, statement);
      }
      const params: Record<string, string | number | null> = { name };
      for (const k of keys) params[k] = toColumn(k, changes[k]);
      statement.run(params);
      const prev = cache.get(name);
      if (prev) put(name, withChanges(prev, changes));
    },
    /** After a restart no link survives: every node starts disconnected. */
    markAllDisconnected(): void {
      db.sql.exec("UPDATE nodes SET connected = 0");
      for (const [name, s] of cache) put(name, withChanges(s, { connected: false }));
    },
  };
}

export type NodesRepo = ReturnType<typeof createNodesRepo>;
