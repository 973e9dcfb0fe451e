import { statSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import t from "tap";
import { openDatabase } from "../../../packages/coordinator/src/store/db.ts";
import { MIGRATIONS } from "../../../packages/coordinator/src/store/migrations.ts";
import { openStore } from "../../../packages/coordinator/src/store/store.ts";
import { nodeFacts } from "../helpers/domain.ts";

t.test("the database is created 0600 in a 0700 dir, in WAL mode, migrated once", async (t) => {
  const dir = join(t.testdir(), "state");
  const db = openDatabase(dir);
  t.equal(statSync(dir).mode & 0o777, 0o700);
  for (const f of ["muster.db", "muster.db-wal", "muster.db-shm"])
    t.equal(statSync(join(dir, f)).mode & 0o777, 0o600, f);
  t.equal((db.sql.prepare("PRAGMA journal_mode").get() as { journal_mode: string }).journal_mode, "wal");
  t.equal((db.sql.prepare("PRAGMA synchronous").get() as { synchronous: number }).synchronous, 2, "FULL");
  t.equal((db.sql.prepare("PRAGMA foreign_keys").get() as { foreign_keys: number }).foreign_keys, 1);
  db.close();
  const again = openDatabase(dir);
  t.equal(
    (again.sql.prepare("SELECT version FROM schema_version").get() as { version: number }).version,
    MIGRATIONS.length,
  );
  again.close();
});

t.test("a database from a newer coordinator is refused", async (t) => {
  const dir = t.testdir();
  openDatabase(dir).close();
  const raw = new DatabaseSync(join(dir, "muster.db"));
  raw.exec("UPDATE schema_version SET version = 999");
  raw.close();
  t.throws(() => openDatabase(dir), /schema 999 is newer/);
});

t.test("tx commits all or nothing", async (t) => {
  const store = openStore(t.testdir(), Date.now);
  t.teardown(() => store.close());
  t.throws(() =>
    store.tx(() => {
      store.events.append("node.retry", null, "first");
      throw new Error("second step failed");
    }),
  );
  t.same(store.events.after(0, 10), [], "the first write was rolled back");
});

t.test("the lease table holds one lease at most, whatever the caller does", async (t) => {
  const store = openStore(t.testdir(), Date.now);
  t.teardown(() => store.close());
  for (const [i, name] of ["s1", "s2"].entries())
    store.nodes.insert({
      name,
      machineId: nodeFacts(name, i).machineId,
      role: "server",
      address: `10.0.0.${i}`,
      facts: nodeFacts(name, i),
      credentialHash: "x",
      now: 1,
    });
  store.lease.take("s1", 5);
  t.throws(() => store.lease.take("s2", 6), /UNIQUE|PRIMARY KEY|constraint/i);
  t.same(store.lease.get(), { node: "s1", since: 5, kind: "server-join" });
  t.equal(store.lease.release("s2"), false, "only the holder releases it");
  t.equal(store.lease.release("s1"), true);
  t.equal(store.lease.get(), null);
  store.nodes.update("s1", { init: true });
  t.throws(() => store.nodes.update("s2", { init: true }), /UNIQUE/i, "one init server at most");
});
