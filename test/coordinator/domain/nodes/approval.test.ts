import { type HelloFrame, NodeCredentialInvalid, NodePendingApproval } from "@muster/shared";
import t from "tap";
import { eventsOf, FakeLink, join, makeWorld, nodeFacts, type World } from "../../helpers/domain.ts";

// Consent to re-enrol (docs/architecture.md#invariant-11): knowing a node's machine id and holding a
// join token of its role is not enough to become that node.

function hello(node: string, credential: string, machineIdOf: number): HelloFrame {
  return {
    type: "hello",
    node,
    credential,
    facts: nodeFacts("newcomer", machineIdOf),
    agentVersion: "0.1.0",
    appliedChecksum: null,
  };
}

/** A second machine presents s1's machine id with a fresh join token of the role. */
function impostor(w: World, n: number, opts: { replace?: boolean } = {}) {
  const { token } = w.coord.createJoinToken({ role: "server", ...opts });
  return w.coord.enrol(
    {
      type: "enrol",
      joinToken: token,
      facts: nodeFacts("newcomer", n, { address: "10.0.0.99" }),
      agentVersion: "0.1.0",
    },
    "10.0.0.99",
  );
}

t.test(
  "a known machine id with a join token waits in pending-approval; the real agent keeps working",
  async (t) => {
    const w = makeWorld(t);
    const real = join(w, "s1", "server", {}, 7);
    const before = w.coord.getNode("s1");

    const claim = impostor(w, 7);
    t.equal(claim.node, "s1");
    t.match(claim.pendingApproval, /muster nodes approve s1/, "the newcomer is told why it waits");
    const view = w.coord.getNode("s1");
    t.equal(view.state, before.state, "the node's own state is untouched");
    t.equal(view.claim?.state, "pending-approval");
    t.match(view.claim?.reason, /10\.0\.0\.99.*muster nodes approve s1/);
    t.ok(w.coord.getCluster().warnings.some((m) => m.startsWith("node s1:") && m.includes("approve")));
    t.ok(eventsOf(w).some((e) => e.type === "node.approval.pending" && e.message.includes("10.0.0.99")));

    t.same(
      w.coord.authenticate(hello("s1", real.credential, 7)),
      { node: "s1" },
      "the real credential still works",
    );
    t.throws(
      () => w.coord.authenticate(hello("s1", claim.credential, 7)),
      NodePendingApproval,
      "the newcomer waits",
    );
    t.throws(() => w.coord.authenticate(hello("s1", "x".repeat(43), 7)), NodeCredentialInvalid);
  },
);

t.test(
  "after `muster nodes approve` the new machine takes over and the old credential is refused",
  async (t) => {
    const w = makeWorld(t);
    const real = join(w, "s1", "server", {}, 7);
    const claim = impostor(w, 7);
    const approved = w.coord.approveNode("s1");
    t.equal(approved.claim?.state, "approved");
    t.ok(eventsOf(w).some((e) => e.type === "node.approved"));

    t.same(
      w.coord.authenticate(hello("s1", claim.credential, 7)),
      { node: "s1" },
      "the approved machine gets in",
    );
    const link = new FakeLink();
    w.coord.attach("s1", link, null);
    t.equal(real.link.closedWith?.code, 4410, "the old machine's link is closed as replaced");
    t.throws(
      () => w.coord.authenticate(hello("s1", real.credential, 7)),
      NodeCredentialInvalid,
      "its credential is dead",
    );
    t.notOk(w.coord.getNode("s1").claim, "the claim is used up");
    t.ok(
      eventsOf(w).some(
        (e) => e.type === "node.enrolled" && /moved to machine newcomer.*approval/.test(e.message),
      ),
    );
  },
);

t.test("a claim replaced by a later one loses its approval", async (t) => {
  const w = makeWorld(t);
  join(w, "s1", "server", {}, 7);
  const first = impostor(w, 7);
  w.coord.approveNode("s1");
  const second = impostor(w, 7);
  t.equal(w.coord.getNode("s1").claim?.state, "pending-approval", "an approval is for one machine");
  t.throws(() => w.coord.authenticate(hello("s1", first.credential, 7)), NodeCredentialInvalid);
  t.throws(() => w.coord.authenticate(hello("s1", second.credential, 7)), NodePendingApproval);
});

t.test("a --replace join token moves the identity at once", async (t) => {
  const w = makeWorld(t);
  const real = join(w, "s1", "server", {}, 7);
  const moved = impostor(w, 7, { replace: true });
  t.equal(moved.pendingApproval, undefined);
  t.same(w.coord.authenticate(hello("s1", moved.credential, 7)), { node: "s1" });
  t.throws(() => w.coord.authenticate(hello("s1", real.credential, 7)), NodeCredentialInvalid);
  t.ok(
    w.coord.listJoinTokens().some((tok) => tok.replace === true),
    "the listing shows the --replace token",
  );
});

t.test("approve answers 404 for an unknown node and 409 when nobody waits", async (t) => {
  const w = makeWorld(t);
  join(w, "s1", "server", {}, 7);
  t.throws(() => w.coord.approveNode("nope"), { code: "NOT_FOUND" });
  t.throws(() => w.coord.approveNode("s1"), { code: "CONFLICT", message: /no machine is waiting/ });
});

t.test("join tokens: a use limit, uses and lastUsedAt", async (t) => {
  const w = makeWorld(t);
  const { token, id } = w.coord.createJoinToken({ role: "agent", maxUses: 1 });
  const enrol = (n: number) =>
    w.coord.enrol(
      { type: "enrol", joinToken: token, facts: nodeFacts(`a${n}`, n), agentVersion: "0.1.0" },
      "10.0.0.50",
    );
  enrol(31);
  t.throws(() => enrol(32), { code: "UNAUTHORIZED", message: /already used 1 time/ }, "single-use");
  const listed = w.coord.listJoinTokens().find((x) => x.id === id);
  t.same([listed?.uses, listed?.maxUses, typeof listed?.lastUsedAt], [1, 1, "string"]);
});
