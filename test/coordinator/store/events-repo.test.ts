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
