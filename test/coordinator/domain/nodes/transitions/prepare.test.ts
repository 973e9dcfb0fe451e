import t from "tap";
import { answerChecks, eventsOf, FakeLink, join, link, makeWorld, send } from "../../../helpers/domain.ts";

// install.prepare: a node that passed its checks is asked to install RKE2 before its turn, so only
// the join itself is serialised; the outcome is shown as an event and never fails the node.

t.test("a node that passes its checks is asked to pre-stage the install of its role", async (t) => {
  const w = makeWorld(t);
  const { node: s1 } = join(w, "s1", "server");
  const { node: s2 } = join(w, "s2", "server");
  const { node: a1 } = join(w, "a1", "agent");
  answerChecks(w, s1);
  answerChecks(w, s2);
  answerChecks(w, a1);

  const [p2] = link(w, s2).all("install.prepare");
  t.ok(p2, "the waiting server got install.prepare");
  t.same(p2?.install, { installerUrl: "https://get.rke2.io", type: "server", channel: "stable" });
  t.equal(p2?.service, "rke2-server");
  t.equal(link(w, a1).all("install.prepare")[0]?.install.type, "agent");
  t.equal(link(w, a1).all("install.prepare")[0]?.service, "rke2-agent");
  t.equal(link(w, s2).all("plan.apply").length, 0, "preparing is not joining: no plan while s1 initialises");
});

t.test("a failing check means no install at all", async (t) => {
  const w = makeWorld(t);
  const { node } = join(w, "s1", "server");
  answerChecks(w, node, [{ name: "disk", status: "fail", message: "too small", fix: "grow it" }]);
  t.equal(link(w, node).all("install.prepare").length, 0);
});

t.test("a waiting node that reconnects is asked again; outcomes are events, not failures", async (t) => {
  const w = makeWorld(t);
  const { node: s1 } = join(w, "s1", "server");
  const { node: s2 } = join(w, "s2", "server");
  answerChecks(w, s1);
  answerChecks(w, s2);
  const again = new FakeLink();
  w.links.set(s2, again);
  w.coord.attach(s2, again, null);
  t.equal(again.all("install.prepare").length, 1, "re-sent on the new link");

  send(w, s2, { type: "install.prepared", ok: false, message: "[ERROR]  download failed" });
  send(w, s1, {
    type: "install.prepared",
    ok: true,
    message: "pre-installed: installed RKE2 v1.33.5+rke2r1",
  });
  const texts = eventsOf(w).map((e) => e.message);
  t.ok(texts.some((m) => /s2: staging RKE2 failed, the join will install it again: \[ERROR\]/.test(m)));
  t.ok(texts.some((m) => /s1: RKE2 staged while waiting/.test(m)));
  t.not(w.coord.getNode(s2).state, "failed", "a failed pre-stage does not fail the node");
});
