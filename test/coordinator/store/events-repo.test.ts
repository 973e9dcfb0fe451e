import { existsSync, statSync } from "node:fs";
import path from "node:path";
import { DB_FILE } from "@muster/coordinator/store/db";
import { MAX_EVENTS_PER_NODE_TYPE } from "@muster/coordinator/store/events-repo";
import { openStore } from "@muster/coordinator/store/store";
import t from "tap";

t.test("appended events are announced once committed, never when rolled back", async (t) => {
  const store = openStore(t.testdir(), Date.now);
  t.teardown(() => store.close());
  t.equal(store.events.latestSeq(), 0, "empty log");
  const heard: number[] = [];
  const unsubscribe = store.events.onAppend((seq) => heard.push(seq));

  store.events.append("join-token.created", null, "outside a transaction");
  t.same(heard, [1], "at once outside a transaction");

  store.tx(() => {
    store.events.append("node.enrolled", "a", "inside");
    t.same(heard, [1], "not before the commit");
  });
  t.same(heard, [1, 2], "after the commit");

  t.throws(() =>
    store.tx(() => {
      store.events.append("node.enrolled", "b", "rolled back");
      throw new Error("boom");
    }),
  );
  t.same(heard, [1, 2], "a rolled-back event is not announced");
  t.equal(store.events.latestSeq(), 2);

  unsubscribe();
  store.events.append("node.enrolled", "c", "nobody listens");
  t.same(heard, [1, 2]);
  t.equal(store.events.latestSeq(), 3);
});

t.test(
  "10,000 repeated events from one node: bounded ring, DB grows < 1 MB, state changes kept",
  async (t) => {
    const dir = t.testdir();
    let store = openStore(dir, Date.now);
    const size = () => {
      let bytes = 0;
      for (const f of [DB_FILE, `${DB_FILE}-wal`]) {
        const p = path.join(dir, f);
        if (existsSync(p)) bytes += statSync(p).size;
      }
      return bytes;
    };
    store.events.append("node.enrolled", "w1", "w1 enrolled");
    store.events.append("node.enrolled", "w2", "w2 enrolled");
    store.close();
    const before = size();
    store = openStore(dir, Date.now);
    for (let i = 0; i < 10_000; i++)
      store.tx(() => store.events.append("node.phase", "w1", `w1 prepared the install (${i})`));
    const all = store.events.after(0, 100_000);
    const latest = store.events.latestSeq();
    // Closing checkpoints the WAL into the file (a running coordinator's WAL is reused, bounded by
    // SQLite's auto-checkpoint): what is left is the growth that stays.
    store.close();
    const grown = size() - before;
    t.ok(grown < 1024 * 1024, `the database grew ${grown} bytes (< 1 MiB)`);
    const repeats = all.filter((e) => e.type === "node.phase");
    t.equal(repeats.length, MAX_EVENTS_PER_NODE_TYPE, "the ring keeps the newest per node and type");
    t.equal(repeats.at(-1)?.message, "w1 prepared the install (9999)", "the newest is kept");
    t.ok(
      all.some((e) => e.type === "node.enrolled" && e.node === "w1"),
      "the node's other events (its state changes) are not pushed out",
    );
    t.ok(
      all.some((e) => e.node === "w2"),
      "other nodes untouched",
    );
    t.equal(latest, 10_002, "seq still counts every event");
  },
);
