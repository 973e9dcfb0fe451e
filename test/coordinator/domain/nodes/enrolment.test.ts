import t from "tap";
import { makeWorld, nodeFacts } from "../../helpers/domain.ts";

// Enrolment (docs/architecture.md, invariant 6) and node credentials.

const frame = (joinToken: string, facts: ReturnType<typeof nodeFacts>, over: object = {}) => ({
  type: "enrol" as const,
  joinToken,
  facts,
  agentVersion: "0.1.0",
  ...over,
});
const hello = (node: string, credential: string, facts: ReturnType<typeof nodeFacts>) => ({
  type: "hello" as const,
  node,
  credential,
  facts,
  agentVersion: "0.1.0",
  appliedChecksum: null,
});

t.test("name from --node-name or the hostname; address from --address or the facts", async (t) => {
  const w = makeWorld(t);
  const { token } = w.coord.createJoinToken({ role: "agent" });
  const a = w.coord.enrol(frame(token, nodeFacts("host-a", 1)), "10.9.9.9");
  t.equal(a.node, "host-a");
  t.equal(w.coord.getNode("host-a").address, "10.0.0.11");
  const b = w.coord.enrol(
    frame(token, nodeFacts("Host_B", 2), { nodeName: "worker-b", address: "192.168.1.5" }),
    "10.9.9.9",
  );
  t.equal(b.node, "worker-b");
  t.equal(w.coord.getNode("worker-b").address, "192.168.1.5");
  t.throws(() => w.coord.enrol(frame(token, nodeFacts("Host_C", 3)), "10.9.9.9"), {
    code: "VALIDATION_FAILED",
    details: [{ path: "nodeName" }],
    message: /"Host_C" is not a lowercase RFC 1123 name/,
  });
  t.throws(() => w.coord.enrol(frame(token, nodeFacts("d", 4), { address: "not-an-ip" }), "10.9.9.9"), {
    code: "VALIDATION_FAILED",
    details: [{ path: "address" }],
  });
  const event = w.coord.listEvents(0, 10).events.find((e) => e.node === "host-a")!;
  t.equal(event.type, "node.enrolled");
});

t.test(
  "a re-enrolling machine (with consent: a --replace token) maps back to its node: same name, role and state; new credential",
  async (t) => {
    const w = makeWorld(t);
    const { token } = w.coord.createJoinToken({ role: "server" });
    const facts = nodeFacts("s1", 7);
    const first = w.coord.enrol(frame(token, facts), "10.9.9.9");
    w.coord.attach("s1", { send() {}, close() {} }, null);
    w.coord.tick();
    t.equal(w.coord.getNode("s1").state, "checking");

    // Without consent it would wait in pending-approval (approval.test.ts).
    const replace = w.coord.createJoinToken({ role: "server", replace: true }).token;
    const again = w.coord.enrol(frame(replace, { ...facts, hostname: "renamed" }), "10.9.9.9");
    t.equal(again.node, "s1", "the machine keeps its node name");
    t.not(again.credential, first.credential);
    t.equal(w.coord.listNodes().length, 1, "no second node for the same machine");
    t.equal(w.coord.getNode("s1").state, "checking", "state kept");
    t.throws(
      () => w.coord.authenticate(hello("s1", first.credential, facts)),
      { code: "UNAUTHORIZED" },
      "old credential invalidated",
    );
    t.same(w.coord.authenticate(hello("s1", again.credential, facts)), { node: "s1" });

    const agentToken = w.coord.createJoinToken({ role: "agent" }).token;
    t.throws(() => w.coord.enrol(frame(agentToken, facts), "10.9.9.9"), {
      code: "CONFLICT",
      message: /already enrolled as server s1; an agent join token cannot re-enrol it/,
    });
  },
);

t.test(
  "verifying a token with the machine id refuses the other role before anything is installed",
  async (t) => {
    const w = makeWorld(t);
    const server = w.coord.createJoinToken({ role: "server" });
    const agent = w.coord.createJoinToken({ role: "agent" });
    const facts = nodeFacts("s1", 7);
    w.coord.enrol(frame(server.token, facts), "10.9.9.9");
    const eventsBefore = w.coord.listEvents(0, 100).events.length;

    t.throws(() => w.coord.verifyJoinToken(agent.token, facts.machineId), {
      code: "CONFLICT",
      message: "this machine is already enrolled as server s1; an agent join token cannot re-enrol it",
    });
    t.same(w.coord.verifyJoinToken(server.token, facts.machineId), {
      id: server.id,
      role: "server",
      expiresAt: server.expiresAt,
    });
    t.equal(
      w.coord.verifyJoinToken(agent.token, nodeFacts("new", 8).machineId).role,
      "agent",
      "unknown machine",
    );
    t.equal(w.coord.verifyJoinToken(agent.token).role, "agent", "no machine id: the token alone");
    // Only a valid token learns anything about the machine.
    t.throws(() => w.coord.verifyJoinToken(`${agent.id}.aaaaaaaaaaaaaaaa`, facts.machineId), {
      code: "UNAUTHORIZED",
    });
    t.equal(w.coord.listEvents(0, 100).events.length, eventsBefore, "verifying records nothing");
    const uses = Object.fromEntries(w.coord.listJoinTokens().map((x) => [x.id, x.uses]));
    t.same(uses, { [server.id]: 1, [agent.id]: 0 }, "verifying uses no token");
  },
);

t.test("a name taken by another machine is a conflict", async (t) => {
  const w = makeWorld(t);
  const { token } = w.coord.createJoinToken({ role: "server" });
  w.coord.enrol(frame(token, nodeFacts("s1", 1)), "10.9.9.9");
  t.throws(() => w.coord.enrol(frame(token, nodeFacts("s1", 2)), "10.9.9.9"), {
    code: "CONFLICT",
    message: "node name s1 is already used by another machine",
  });
  t.equal(w.coord.listJoinTokens()[0]?.uses, 1, "a refused enrolment does not count as a use");
});

t.test("a node's credential authenticates that node only, from that machine only", async (t) => {
  const w = makeWorld(t);
  const { token } = w.coord.createJoinToken({ role: "agent" });
  const fa = nodeFacts("a", 1);
  const fb = nodeFacts("b", 2);
  const a = w.coord.enrol(frame(token, fa), "10.9.9.9");
  const b = w.coord.enrol(frame(token, fb), "10.9.9.9");
  t.same(w.coord.authenticate(hello("a", a.credential, fa)), { node: "a" });
  t.throws(() => w.coord.authenticate(hello("b", a.credential, fb)), {
    code: "UNAUTHORIZED",
    message: "node credential is not valid",
  });
  t.throws(() => w.coord.authenticate(hello("a", b.credential, fa)), { code: "UNAUTHORIZED" });
  t.throws(() => w.coord.authenticate(hello("nobody", a.credential, fa)), {
    code: "UNAUTHORIZED",
    message: "node credential is not valid",
  });
  t.throws(() => w.coord.authenticate(hello("a", a.credential, fb)), {
    code: "UNAUTHORIZED",
    message: /different machine/,
  });
});
