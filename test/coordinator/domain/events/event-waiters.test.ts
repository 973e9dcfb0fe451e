import { createEventWaiters } from "@muster/coordinator/domain/events/event-waiters";
import t from "tap";

t.test("a wait returns at once when the log already holds a newer event", async (t) => {
  const w = createEventWaiters(5);
  t.equal(await w.wait(4, 60_000), "event");
  t.equal(w.size(), 0, "nothing parked");
});

t.test("a parked wait wakes on the first event past it, and only then", async (t) => {
  const w = createEventWaiters(5);
  const early = w.wait(5, 60_000);
  const late = w.wait(7, 60_000);
  t.equal(w.size(), 2);
  w.notify(6);
  t.equal(await early, "event");
  t.equal(w.size(), 1, "the waiter after 7 still waits for seq 8");
  w.notify(8);
  t.equal(await late, "event");
  t.equal(w.size(), 0);
  t.equal(await w.wait(7, 60_000), "event", "newest is remembered");
});

t.test("a wait times out, or ends when its signal aborts, and leaves nothing behind", async (t) => {
  const w = createEventWaiters(0);
  const started = Date.now();
  t.equal(await w.wait(0, 50), "timeout");
  t.ok(Date.now() - started >= 45, "it did wait");
  const ctl = new AbortController();
  const aborted = w.wait(0, 60_000, ctl.signal);
  t.equal(w.size(), 1);
  ctl.abort();
  t.equal(await aborted, "aborted");
  t.equal(w.size(), 0);
  t.equal(await w.wait(0, 60_000, ctl.signal), "aborted", "an aborted signal does not park");
});

t.test("close ends every wait and later ones return at once", async (t) => {
  const w = createEventWaiters(0);
  const parked = [w.wait(0, 60_000), w.wait(3, 60_000)];
  w.close();
  t.same(await Promise.all(parked), ["closed", "closed"]);
  t.equal(await w.wait(0, 60_000), "closed");
  t.equal(w.size(), 0);
});
