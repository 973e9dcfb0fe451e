import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { MIGRATIONS } from "./migrations.ts";

// The coordinator's embedded store. WAL lets readers (REST views) run beside the writer.
// synchronous=FULL: a commit is fsynced before we act on it. With NORMAL a committed transaction can
// vanish on power loss; if that transaction released a server's plan and took the join lease, a
// restarted coordinator would hand a second server the lease while the first is still joining,
// breaking invariant 2 (docs/architecture.md). An fsync costs 0.3-3 ms, so with thousands of agents the coordinator spends
// its time in them unless it needs fewer:
// - "full" (the default): fsynced before tx() returns.
// - "grouped": just as durable, but every grouped change of one turn of the event loop shares one
//   fsync, on the next turn; whatever acts on the change waits for it with afterCommit or whenDurable
//   (a join result; an enrolment, whose welcome carries the credential: sent only once durable).
// - "relaxed": synchronous=NORMAL, for changes the coordinator re-derives after a restart (a link
//   coming or going, a checks request or result, which a reconnecting agent is asked for again, a
//   phase report). It survives a crash of the process; only a power loss can undo it, and only back
//   to the last durable commit (the WAL is synced in order), never a plan release, a lease, an
//   enrolment or a join result. Heartbeats are kept in memory and flushed in batches, relaxed.
export const DB_FILE = "muster.db";

export type Durability = "full" | "grouped" | "relaxed";

export interface Db {
  readonly sql: DatabaseSync;
  readonly path: string;
  /**
   * Runs `fn` in one IMMEDIATE transaction: all of it commits, or none of it. Called inside another
   * transaction it runs in a savepoint: if it throws, its writes (and its afterCommit and onRollback
   * registrations) are undone and the caller may catch the error and go on. A relaxed transaction
   * may not hold a FULL one: decide the durability where the outermost transaction starts.
   * "grouped": FULL, but committed with every other change of this turn of the event loop, in one
   * fsync on the next turn (or at once when a "full" one comes along); what waits for it
   * (afterCommit) runs then. For changes no caller acts on before that, other than through
   * afterCommit. While a group is open, other transactions join it (as savepoints).
   */
  tx<T>(fn: () => T, durability?: Durability): T;
  /** Runs `fn` once the outermost transaction committed (at once outside one); never after a rollback. */
  afterCommit(fn: () => void): void;
  /** Undoes in-memory state kept in step with a write of the current transaction, if it rolls back. */
  onRollback(undo: () => void): void;
  /**
   * Resolves once everything written so far is durable (at once when no transaction is open: a
   * grouped change resolves with its group's fsync), rejects when that commit fails and rolls back.
   */
  whenDurable(): Promise<void>;
  close(): void;
}

/** Creates the state dir (0700) and opens the database in it, migrating it to the newest schema. */
export function openDatabase(stateDir: string, onError: (err: unknown) => void = defaultOnError): Db {
  ensurePrivateDir(stateDir);
  const path = join(stateDir, DB_FILE);
  // Create the file 0600 before SQLite does: SQLite gives -wal and -shm the database file's mode.
  closeSync(openSync(path, "a", 0o600));
  const sql = new DatabaseSync(path, { enableForeignKeyConstraints: true });
  sql.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000;");
  const db = wrap(sql, path, onError);
  migrate(db);
  restrictFiles(path);
  return db;
}

/** A grouped commit fails on a later turn, where nobody can catch it. */
function defaultOnError(err: unknown): void {
  console.error(`muster: committing grouped changes failed: ${(err as Error).message}`);
}

export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
}

/** Belt and braces for files created under a permissive umask before we got here. */
export function restrictFiles(dbPath: string): void {
  for (const file of [dbPath, `${dbPath}-wal`, `${dbPath}-shm`]) {
    if (existsSync(file)) chmodSync(file, 0o600);
  }
}

function wrap(sql: DatabaseSync, path: string, onError: (err: unknown) => void): Db {
  let closed = false;
  let relaxed = false; // the open transaction commits with synchronous=NORMAL
  let depth = 0; // transaction functions running
  let group: NodeJS.Immediate | null = null; // an open grouped transaction and its commit
  let savepoints = 0;
  let undoing = false;
  const undo: (() => void)[] = [];
  const after: (() => void)[] = [];

  /** Undoes in-memory changes (newest first) and forgets callbacks registered after the marks. */
  const rollbackTo = (undoMark: number, afterMark: number) => {
    undoing = true; // an undo step writing through the same code path registers no new one
    try {
      while (undo.length > undoMark) undo.pop()!();
    } finally {
      undoing = false;
    }
    after.length = afterMark;
  };

  function run<T>(fn: () => T): T {
    depth += 1;
    try {
      return fn();
    } finally {
      depth -= 1;
    }
  }

  function savepoint<T>(fn: () => T): T {
    const name = `sp${++savepoints}`;
    const marks = [undo.length, after.length] as const;
    sql.exec(`SAVEPOINT ${name}`);
    try {
      const out = run(fn);
      sql.exec(`RELEASE ${name}`);
      return out;
    } catch (err) {
      if (sql.isTransaction) sql.exec(`ROLLBACK TO ${name}; RELEASE ${name}`);
      rollbackTo(...marks);
      throw err;
    } finally {
      savepoints -= 1;
    }
  }

  function begin(durability: Durability): void {
    relaxed = durability === "relaxed";
    if (relaxed) sql.exec("PRAGMA synchronous = NORMAL");
    try {
      sql.exec("BEGIN IMMEDIATE");
    } catch (err) {
      restore();
      throw err;
    }
  }

  function restore(): void {
    if (relaxed) sql.exec("PRAGMA synchronous = FULL");
    relaxed = false;
  }

  function abort(): void {
    if (sql.isTransaction) sql.exec("ROLLBACK");
    rollbackTo(0, 0);
    restore();
  }

  /** Commits the open transaction (all of it rolls back if that fails) and runs what waited for it. */
  function commit(): void {
    try {
      sql.exec("COMMIT");
    } catch (err) {
      abort();
      throw err;
    }
    restore();
    undo.length = 0;
    // One failing callback does not stop the others; the first failure is reported after them.
    let failure: unknown = null;
    for (const cb of after.splice(0)) {
      try {
        cb();
      } catch (err) {
        failure ??= err;
      }
    }
    if (failure !== null) throw failure;
  }

  function outermost<T>(fn: () => T, durability: Durability): T {
    begin(durability);
    let out: T;
    try {
      out = run(fn);
    } catch (err) {
      abort();
      throw err;
    }
    commit();
    return out;
  }

  function commitGroup(): void {
    if (group === null) return;
    clearImmediate(group);
    group = null;
    commit();
  }

  return {
    sql,
    path,
    tx<T>(fn: () => T, durability: Durability = "full"): T {
      if (depth > 0) {
        if (relaxed && durability !== "relaxed")
          throw new Error("a FULL transaction cannot run inside a relaxed one (decide at the outermost)");
        return savepoint(fn);
      }
      if (group === null && durability !== "grouped") return outermost(fn, durability);
      if (group === null) {
        begin("full");
        group = setImmediate(() => {
          try {
            commitGroup();
          } catch (err) {
            onError(err);
          }
        });
      }
      const out = savepoint(fn);
      if (durability === "full") commitGroup(); // durable before the caller goes on, with the group
      return out;
    },
    afterCommit(fn: () => void): void {
      if (sql.isTransaction) after.push(fn);
      else fn();
    },
    onRollback(fn: () => void): void {
      if (sql.isTransaction && !undoing) undo.push(fn);
    },
    whenDurable(): Promise<void> {
      if (!sql.isTransaction) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        after.push(resolve);
        undo.push(() => reject(new Error("the change was rolled back before it was durable")));
      });
    },
    close() {
      if (closed) return;
      try {
        commitGroup();
      } catch (err) {
        onError(err);
      }
      closed = true;
      sql.close();
    },
  };
}

function migrate(db: Db): void {
  db.sql.exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
  const row = db.sql.prepare("SELECT version FROM schema_version").get() as { version: number } | undefined;
  const current = row?.version ?? 0;
  if (current > MIGRATIONS.length)
    throw new Error(`state database schema ${current} is newer than this coordinator (${MIGRATIONS.length})`);
  for (let v = current; v < MIGRATIONS.length; v++) {
    db.tx(() => {
      db.sql.exec(MIGRATIONS[v]!);
      db.sql.exec("DELETE FROM schema_version");
      db.sql.prepare("INSERT INTO schema_version (version) VALUES (?)").run(v + 1);
    });
  }
}
