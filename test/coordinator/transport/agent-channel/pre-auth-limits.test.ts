import { CloseCodes } from "@muster/shared";
import t from "tap";
import { FakeAgent, makeApp } from "../../helpers/harness.ts";

// Before a socket authenticates it may cost little: a bounded number of them, a small first frame,
// and a deadline (docs/reference.md#agent-channel).

t.test("sockets beyond the unauthenticated limit are closed at once", async (t) => {
  const { app } = await makeApp(t, { app: { hub: { maxPending: 3, shutdownGraceMs: 50 } } });
  const idle = await Promise.all([1, 2, 3].map(() => FakeAgent.connect(app)));
  const extra = await FakeAgent.connect(app);
  const closed = await extra.closed;
  t.equal(closed.code, CloseCodes.TRY_LATER, "the fourth unauthenticated socket is refused");
  t.match(closed.reason, /too many unauthenticated connections/);
  for (const s of idle) t.equal(s.ws.readyState, 1, "the first three stay until their deadline");
});

t.test("one source holds at most its share of unauthenticated sockets; more upgrades get 429", async (t) => {
  const { app } = await makeApp(t, { app: { hub: { maxPendingPerSource: 2, shutdownGraceMs: 50 } } });
  const idle = await Promise.all([1, 2].map(() => FakeAgent.connect(app)));
  await t.rejects(FakeAgent.connect(app), /Unexpected server response: 429/, "the third upgrade is refused");
  // Once one of them authenticates or goes, the source may open another.
  idle[0]!.ws.terminate();
  await idle[0]!.closed;
  const again = await FakeAgent.connect(app);
  t.equal(again.ws.readyState, 1, "a freed slot is usable again");
});

t.test("a first frame over 64 KiB closes the socket before it is parsed", async (t) => {
  const { app } = await makeApp(t);
  const agent = await FakeAgent.connect(app);
  agent.send(`{"type":"enrol","pad":"${"x".repeat(100 * 1024)}"}`);
  const closed = await agent.closed;
  t.equal(closed.code, CloseCodes.BAD_FRAME);
  t.equal(closed.reason, "first frame larger than 65536 bytes", "the reason does not echo the frame");
  const big = await FakeAgent.connect(app);
  big.send("x".repeat(1024 * 1024));
  t.equal((await big.closed).code, CloseCodes.BAD_FRAME, "a 1 MiB pre-auth frame closes the socket");
});

t.test("no first frame within the auth deadline: closed", async (t) => {
  const { app } = await makeApp(t, {
    app: { hub: { authTimeoutMs: 200, sweepMs: 50, shutdownGraceMs: 50 } },
  });
  // The hub's sweep timer is unref'd and injectWS holds no real socket: keep the loop alive.
  const keep = setInterval(() => {}, 50);
  t.teardown(() => clearInterval(keep));
  const agent = await FakeAgent.connect(app);
  const closed = await agent.closed;
  t.equal(closed.code, CloseCodes.UNAUTHORIZED);
  t.match(closed.reason, /no enrol or hello frame within 0.2 s/);
});
