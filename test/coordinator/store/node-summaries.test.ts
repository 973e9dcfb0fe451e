import type { NodeChanges } from "@muster/coordinator/store/nodes-repo";
import { openStore, type Store } from "@muster/coordinator/store/store";
import { type CheckResult, NODE_STATES, type NodeState } from "@muster/shared";
import t, { type Test } from "tap";
import { nodeFacts } from "../helpers/domain.ts";

// The in-memory node summaries are written through with every row write and undone with every
// rollback, so they always equal what a restart would load from the database.

function insert(store: Store, name: string, n: number, role: "server" | "agent" = "agent") {
  return store.nodes.insert({
    name,
    machineId: nodeFacts(name, n).machineId,
    role,
    address: `10.0.0.${n}`,
    facts: nodeFacts(name, n),
    credentialHash: "x",
    now: n,
  });
}

function agree(t: Test, store: Store, what: string): void {
  t.same(store.nodes.summaries(), store.nodes.summariesFromDatabase(), what);
}

/** A small deterministic PRNG (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const STATES: NodeState[] = [...NODE_STATES];
const CHECKS: (CheckResult[] | null)[] = [
  null,
  [{ name: "os", status: "pass", message: "Linux" }],
  [
    { name: "cpus", status: "fail", message: "1 < 2", fix: "add CPUs" },
    { name: "swap", status: "warn", message: "swap on" },
    { name: "memory", status: "fail", message: "too little", fix: "add memory" },
  ],
];

function randomChanges(pick: <T>(xs: readonly T[]) => T, rnd: () => number): NodeChanges {
  const all: NodeChanges = {
    state: pick(STATES),
    address: `10.1.0.${Math.floor(rnd() * 250)}`,
    connected: rnd() < 0.5,
    releasedAt: pick([null, 1000, 2000]),
    message: pick([null, "m1", "m2"]),
    phase: pick([null, "install started", "start failed"]),
    checks: pick(CHECKS),
    checksRequestId: pick([null, "r1", "r2"]),
    planChecksum: pick([null, "c1", "c2"]),
    attempts: Math.floor(rnd() * 3),
    lastSeen: Math.floor(rnd() * 1000),
    facts: nodeFacts("x", 1),
    stateSince: Math.floor(rnd() * 1000),
  };
  const keys = Object.keys(all) as (keyof NodeChanges)[];
  const some = keys.filter(() => rnd() < 0.3);
  return Object.fromEntries(some.map((k) => [k, all[k]])) as NodeChanges;
}

t.test("summaries equal the database after every write, rollback and savepoint", async (t) => {
  const dir = t.testdir();
  const store = openStore(dir, Date.now);
  const rnd = random(20250101);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const names: string[] = [];
  let n = 0;
  for (let step = 0; step < 400; step++) {
    const op = rnd();
    const name = names.length > 0 ? pick(names) : null;
    if (op < 0.1 || name === null) {
      n += 1;
      insert(store, `n${n}`, n, rnd() < 0.3 ? "server" : "agent");
      names.push(`n${n}`);
    } else if (op < 0.5) {
      store.tx(() => store.nodes.update(name, randomChanges(pick, rnd)), pick(["full", "relaxed"] as const));
    } else if (op < 0.65) {
      // A transaction that writes, then fails: nothing of it may stay, in the table or in memory.
      t.throws(() =>
        store.tx(() => {
          store.nodes.update(name, randomChanges(pick, rnd));
          n += 1;
          insert(store, `n${n}`, n);
          store.nodes.update(pick(names), randomChanges(pick, rnd));
          throw new Error("rolled back");
        }),
      );
    } else if (op < 0.8) {
      // A savepoint that fails inside a transaction that commits.
      store.tx(() => {
        store.nodes.update(name, randomChanges(pick, rnd));
        t.throws(() =>
          store.tx(() => {
            store.nodes.update(pick(names), randomChanges(pick, rnd));
            store.nodes.update(pick(names), { state: "nonsense-but-stored" as NodeState });
            throw new Error("savepoint rolled back");
          }),
        );
        store.nodes.update(pick(names), randomChanges(pick, rnd));
      });
    } else if (op < 0.85) {
      // The database refuses the write (a second init server): the cache must not take it either.
      const current = store.nodes.initNode();
      if (current === null) store.nodes.update(name, { init: true });
      else {
        const other = names.find((x) => x !== current.name);
        if (other) t.throws(() => store.nodes.update(other, { init: true }), /UNIQUE/);
      }
    } else if (op < 0.9) {
      store.tx(() => store.nodes.markAllDisconnected());
    } else {
      const init = store.nodes.initNode();
      if (init) store.tx(() => store.nodes.update(init.name, { init: false }));
    }
    agree(t, store, `step ${step}`);
    const init = store.nodes.summariesFromDatabase().find((s) => s.init) ?? null;
    if (store.nodes.initNode()?.name !== init?.name) t.fail(`step ${step}: init node differs`);
  }
  const before = store.nodes.summaries();
  store.close();
  const reopened = openStore(dir, Date.now);
  t.teardown(() => reopened.close());
  t.same(reopened.nodes.summaries(), before, "a restart loads exactly what was in memory");
  t.equal(
    reopened.nodes.initNode()?.name ?? null,
    before.find((s) => s.init)?.name ?? null,
    "the same init server",
  );
});

t.test("failed checks are summarised by name; other columns leave the summary alone", async (t) => {
  const store = openStore(t.testdir(), Date.now);
  t.teardown(() => store.close());
  insert(store, "a1", 1);
  const first = store.nodes.summary("a1");
  store.nodes.update("a1", { lastSeen: 5, facts: nodeFacts("a1", 2), stateSince: 9 });
  t.equal(store.nodes.summary("a1"), first, "the same object: nothing the summary holds changed");
  store.nodes.update("a1", { checks: CHECKS[2], state: "check-failed" });
  t.same(store.nodes.summary("a1")?.failedChecks, ["cpus", "memory"]);
  t.ok(Object.isFrozen(store.nodes.summary("a1")), "summaries are frozen: no caller can change one");
  t.equal(store.nodes.summary("nope"), null);
  agree(t, store, "in step");
});
