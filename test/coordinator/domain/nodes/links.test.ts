import { createLinks } from "@muster/coordinator/domain/nodes/links";
import { openStore } from "@muster/coordinator/store/store";
import { CloseCodes } from "@muster/shared";
import t, { type Test } from "tap";
import { captureLogger, FakeLink, nodeFacts } from "../../helpers/domain.ts";

// Live agent links: one current link per node, a newer one replaces (and closes) the older, only
// the current one can be detached, sending on a broken link is logged, heartbeats are written in
// batches.

function setup(t: Test) {
  const store = openStore(t.testdir(), () => 0);
  t.teardown(() => store.close());
  const facts = nodeFacts("a1", 1);
  store.nodes.insert({
    name: "a1",
    machineId: facts.machineId,
    role: "agent",
    address: facts.address,
    facts,
    credentialHash: "x",
    now: 1,
  });
  const { logger, logs } = captureLogger();
  return { store, logs, links: createLinks({ store, log: logger }) };
}

t.test(
  "a newer link replaces the older, which is closed REPLACED; only the current one detaches",
  async (t) => {
    const { links } = setup(t);
    const first = new FakeLink();
    const second = new FakeLink();
    links.attach("a1", first);
    t.ok(links.send("a1", { type: "welcome", node: "a1", heartbeatSeconds: 15 }));
    t.equal(first.frames.length, 1);
    links.attach("a1", second);
    t.same(first.closedWith, { code: CloseCodes.REPLACED, reason: "replaced by a newer connection" });
    links.attach("a1", second);
    t.equal(second.closedWith, null, "attaching the same link again closes nothing");
    t.notOk(links.detach("a1", first), "the replaced link closing late is not the node's link");
    t.ok(links.send("a1", { type: "welcome", node: "a1", heartbeatSeconds: 15 }), "still connected");
    t.equal(second.frames.length, 1);
    t.ok(links.detach("a1", second));
    t.notOk(links.send("a1", { type: "welcome", node: "a1", heartbeatSeconds: 15 }), "no link: not sent");
  },
);

t.test("a link that throws on send is logged, not fatal", async (t) => {
  const { links, logs } = setup(t);
  const broken = new FakeLink();
  broken.send = () => {
    throw new Error("socket gone");
  };
  links.attach("a1", broken);
  t.notOk(links.send("a1", { type: "welcome", node: "a1", heartbeatSeconds: 15 }));
  t.ok(logs.some((l) => l.includes("sending to agent failed") && l.includes("socket gone")));
});

t.test("heartbeats stay in memory until flushed; a taken one is not written", async (t) => {
  const { links, store } = setup(t);
  links.heartbeat("a1", 5000);
  t.equal(store.nodes.get("a1")?.lastSeen, null, "not written yet");
  links.flushHeartbeats();
  t.equal(store.nodes.get("a1")?.lastSeen, 5000);
  links.heartbeat("a1", 6000);
  t.equal(links.takeHeartbeat("a1"), 6000);
  t.equal(links.takeHeartbeat("a1"), undefined);
  links.flushHeartbeats();
  t.equal(store.nodes.get("a1")?.lastSeen, 5000, "the taken heartbeat is the caller's to write");
});
