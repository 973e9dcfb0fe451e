import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { MIGRATIONS } from "./migrations.ts";

// The coordinator's embedded store. WAL lets readers (REST views) run beside the writer.
// synchronous=FULL: a commit is fsynced before we act on it. With NORMAL a committed transaction can
// vanish on power loss; if that transaction released a server's plan and took the join lease, a
// restarted coordinator would hand a second server the lease while the first is still joining,
// breaking invariant 2. State changes are rare (per node, not per request), so the fsync is cheap;
// heartbeats are kept in memory and flushed in batches for the same reason.
export const DB_FILE = "muster.db";

export interface Db {
  readonly sql: DatabaseSync;
  readonly path: string;
  /** Runs `fn` in one IMMEDIATE transaction: all of it commits, or none of it. */
  tx<T>(fn: () => T): T;
  close(): void;
}

/** Creates the state dir (0700) and opens the database in it, migrating it to the newest schema. */
export function openDatabase(stateDir: string): Db {
  ensurePrivateDir(stateDir);
  const path = join(stateDir, DB_FILE);
  // Create the file 0600 before SQLite does: SQLite gives -wal and -shm the database file's mode.
  closeSync(openSync(path, "a", 0o600));
  const sql = new DatabaseSync(path, { enableForeignKeyConstraints: true });
  sql.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000;");
  const db = wrap(sql, path);
  migrate(db);
  restrictFiles(path);
  return db;
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

function wrap(sql: DatabaseSync, path: string): Db {
  let closed = false;
  return {
    sql,
    path,
    tx<T>(fn: () => T): T {
      if (sql.isTransaction) return fn(); // nested call: part of the caller's transaction
      sql.exec("BEGIN IMMEDIATE");
      try {
        const out = fn();
        sql.exec("COMMIT");
        return out;
      } catch (err) {
        sql.exec("ROLLBACK");
        throw err;
      }
    },
    close() {
      if (closed) return;
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
