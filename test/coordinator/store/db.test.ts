import { statSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { setImmediate } from "node:timers/promises";
import { openDatabase } from "@muster/coordinator/store/db";
import { MIGRATIONS } from "@muster/coordinator/store/migrations";
import { openStore } from "@muster/coordinator/store/store";
import t from "tap";
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

t.test("a nested tx is a savepoint: caught, only its own writes are undone", async (t) => {
  const store = openStore(t.testdir(), Date.now);
  t.teardown(() => store.close());
  store.tx(() => {
    store.events.append("node.retry", null, "kept");
    t.throws(() =>
      store.tx(() => {
        store.events.append("node.retry", null, "undone");
        throw new Error("inner step failed");
      }),
    );
    store.events.append("node.retry", null, "also kept");
  });
  t.same(
    store.events.after(0, 10).map((e) => e.message),
    ["kept", "also kept"],
  );
});

t.test("afterCommit runs after the outermost commit, never after a rollback", async (t) => {
  const store = openStore(t.testdir(), Date.now);
  t.teardown(() => store.close());
  const ran: string[] = [];
  store.afterCommit(() => ran.push("outside a transaction: at once"));
  store.tx(() => {
    store.afterCommit(() => ran.push("outer"));
    store.tx(() => store.afterCommit(() => ran.push("nested, committed")));
    t.throws(() =>
      store.tx(() => {
        store.afterCommit(() => ran.push("nested, rolled back"));
        throw new Error("no");
      }),
    );
    t.same(ran, ["outside a transaction: at once"], "nothing before the commit");
  });
  t.same(ran, ["outside a transaction: at once", "outer", "nested, committed"]);
  t.throws(() =>
    store.tx(() => {
      store.afterCommit(() => ran.push("rolled back"));
      throw new Error("no");
    }),
  );
  t.equal(ran.length, 3, "a rolled-back transaction runs none");
  t.throws(
    () =>
      store.tx(() => {
        store.events.append("node.retry", null, "committed");
        store.afterCommit(() => {
          throw new Error("first callback fails");
        });
        store.afterCommit(() => ran.push("second still runs"));
      }),
    /first callback fails/,
    "a failing callback is reported after the others ran",
  );
  t.equal(ran.at(-1), "second still runs");
  t.equal(store.events.after(0, 10).at(-1)?.message, "committed", "the commit stands");
});

t.test("relaxed transactions commit with synchronous=NORMAL and cannot hold a FULL one", async (t) => {
  const store = openStore(t.testdir(), Date.now);
  t.teardown(() => store.close());
  const level = () =>
    (store.db.sql.prepare("PRAGMA synchronous").get() as { synchronous: number }).synchronous;
  let inside = -1;
  store.tx(() => {
    store.events.append("node.connected", "n", "relaxed");
    store.afterCommit(() => {
      inside = level();
    });
  }, "relaxed");
  t.equal(level(), 2, "back to FULL after a relaxed commit");
  t.equal(inside, 2, "afterCommit runs once FULL is restored");
  t.throws(
    () => store.tx(() => store.tx(() => store.events.append("node.retry", null, "x")), "relaxed"),
    /FULL transaction cannot run inside a relaxed one/,
  );
  t.equal(level(), 2, "FULL again after a failed relaxed transaction");
  store.tx(() => store.tx(() => store.events.append("node.phase", null, "relaxed in FULL"), "relaxed"));
  t.same(
    store.events.after(0, 10).map((e) => e.message),
    ["relaxed", "relaxed in FULL"],
    "the refused FULL write was rolled back",
  );
});

t.test(
  "grouped transactions of one turn commit together on the next; a full one commits them at once",
  async (t) => {
    const dir = t.testdir();
    const store = openStore(dir, Date.now);
    t.teardown(() => store.close());
    const reader = new DatabaseSync(join(dir, "muster.db"), { readOnly: true });
    t.teardown(() => reader.close());
    const seen = () =>
      (reader.prepare("SELECT message FROM events ORDER BY seq").all() as { message: string }[]).map(
        (r) => r.message,
      );
    const ran: string[] = [];
    for (const m of ["g1", "g2"])
      store.tx(() => {
        store.events.append("node.join.succeeded", null, m);
        store.afterCommit(() => ran.push(m));
      }, "grouped");
    t.throws(() =>
      store.tx(() => {
        store.events.append("node.join.succeeded", null, "g3 fails");
        throw new Error("no");
      }, "grouped"),
    );
    t.same(
      store.events.after(0, 10).map((e) => e.message),
      ["g1", "g2"],
      "visible to this connection",
    );
    t.same(seen(), [], "not committed yet");
    t.same(ran, []);
    await setImmediate();
    t.same(seen(), ["g1", "g2"], "committed together on the next turn");
    t.same(ran, ["g1", "g2"], "what waited for them ran after the commit");

    store.tx(() => store.events.append("node.join.succeeded", null, "g4"), "grouped");
    store.tx(() => store.events.append("node.phase", null, "relaxed joins the group"), "relaxed");
    t.same(seen(), ["g1", "g2"]);
    store.tx(() => store.events.append("node.enrolled", null, "full"));
    t.same(
      seen(),
      ["g1", "g2", "g4", "relaxed joins the group", "full"],
      "a full one commits the group with it",
    );

    store.tx(() => store.events.append("node.join.succeeded", null, "g5"), "grouped");
    store.close();
    t.same(
      seen(),
      ["g1", "g2", "g4", "relaxed joins the group", "full", "g5"],
      "closing commits an open group",
    );
  },
);

t.test("a grouped commit that fails undoes the group, memory included, and is reported", async (t) => {
  const errors: unknown[] = [];
  const store = openStore(t.testdir(), Date.now, (err) => errors.push(err));
  t.teardown(() => store.close());
  store.nodes.insert({
    name: "n1",
    machineId: nodeFacts("n1", 1).machineId,
    role: "server",
    address: "10.0.0.1",
    facts: nodeFacts("n1", 1),
    credentialHash: "x",
    now: 1,
  });
  let ran = false;
  store.tx(() => {
    store.nodes.update("n1", { state: "joined" });
    store.afterCommit(() => {
      ran = true;
    });
  }, "grouped");
  store.tx(() => {
    // A foreign key checked only at COMMIT: the lease names a node that does not exist.
    store.db.sql.exec("PRAGMA defer_foreign_keys = ON");
    store.lease.take("ghost", 1);
  }, "grouped");
  t.equal(store.nodes.summary("n1")?.state, "joined");
  await setImmediate();
  t.match(String(errors[0]), /FOREIGN KEY/);
  t.equal(ran, false, "nothing acted on the lost changes");
  t.equal(store.nodes.summary("n1")?.state, "enrolled", "the summary is undone with the row");
  t.same(store.nodes.summaries(), store.nodes.summariesFromDatabase());
  t.equal(store.lease.get(), null);
});

t.test("whenDurable: resolves with the group's commit, rejects when it rolls back", async (t) => {
  const store = openStore(t.testdir(), Date.now, () => {});
  t.teardown(() => store.close());
  await store.db.whenDurable(); // nothing open: at once
  const order: string[] = [];
  store.tx(() => store.events.append("node.enrolled", null, "e1"), "grouped");
  const durable = store.db.whenDurable().then(() => order.push("durable"));
  store.afterCommit(() => order.push("committed"));
  t.same(order, [], "not before the group commits");
  await durable;
  t.same([...order].sort(), ["committed", "durable"], "resolved by the group's commit");
  const reopened = openStore(store.db.path.replace(/\/muster\.db$/, ""), Date.now);
  t.ok(
    reopened.events.after(0, 10).some((e) => e.message === "e1"),
    "what it waited for is on disk, seen by a second connection",
  );
  reopened.close();

  store.tx(() => {
    store.db.sql.exec("PRAGMA defer_foreign_keys = ON");
    store.lease.take("ghost", 1); // fails at COMMIT
  }, "grouped");
  await t.rejects(store.db.whenDurable(), /rolled back before it was durable/);
});
