import { CloseCodes } from "@muster/shared";
import t from "tap";
import { auth, createJoinToken, enrol, FakeAgent, facts, makeApp } from "../../helpers/harness.ts";

// Consent to re-enrol over the real transports: the newcomer is welcomed with its own credential,
// closed with PENDING_APPROVAL, and refused on hello until `POST /v1/nodes/:name/approve`.

t.test("re-enrolment of a known machine id waits for POST /v1/nodes/:name/approve", async (t) => {
  const { app } = await makeApp(t);
  const machine = facts("s1");
  const { token } = await createJoinToken(app, "server");
  const real = await enrol(app, token, machine);

  const other = await createJoinToken(app, "server");
  const { agent: newcomer, welcome } = await enrol(app, other.token, { ...machine, hostname: "evil" });
  t.equal(welcome.node, "s1");
  const closed = await newcomer.closed;
  t.equal(closed.code, CloseCodes.PENDING_APPROVAL);
  t.match(closed.reason, /^PENDING_APPROVAL: waiting for `muster nodes approve s1`$/);

  const node = (await app.inject({ method: "GET", url: "/v1/nodes/s1", headers: auth })).json();
  t.equal(node.claim.state, "pending-approval", "GET /v1/nodes/s1 shows the claim and why");
  t.equal(node.claim.hostname, "evil");
  t.ok(real.agent.ws.readyState === 1, "the real agent's connection is untouched");

  const helloAs = async (credential: string) => {
    const a = await FakeAgent.connect(app);
    a.send({
      type: "hello",
      node: "s1",
      credential,
      facts: machine,
      agentVersion: "0.1.0",
      appliedChecksum: null,
    });
    return a;
  };
  const waiting = await helloAs(welcome.credential!);
  t.equal((await waiting.closed).code, CloseCodes.PENDING_APPROVAL, "its hello is refused until approved");

  const approve = await app.inject({ method: "POST", url: "/v1/nodes/s1/approve", headers: auth });
  t.equal(approve.statusCode, 200);
  t.equal(approve.json().claim.state, "approved");
  const again = await app.inject({ method: "POST", url: "/v1/nodes/nope/approve", headers: auth });
  t.same([again.statusCode, again.json().error.code], [404, "NOT_FOUND"]);
  const noAuth = await app.inject({ method: "POST", url: "/v1/nodes/s1/approve" });
  t.equal(noAuth.statusCode, 401, "approval is an admin action");

  const taken = await helloAs(welcome.credential!);
  await taken.next("welcome");
  t.equal((await real.agent.closed).code, CloseCodes.REPLACED, "the old machine is cut off");
  const old = await helloAs(real.welcome.credential!);
  t.equal((await old.closed).code, CloseCodes.UNAUTHORIZED, "and its credential is refused");
});

t.test("POST /v1/join-tokens takes replace and maxUses; the listing shows uses and lastUsedAt", async (t) => {
  const { app } = await makeApp(t);
  const res = await app.inject({
    method: "POST",
    url: "/v1/join-tokens",
    headers: auth,
    payload: { role: "server", replace: true, maxUses: 1 },
  });
  t.equal(res.statusCode, 201);
  const { token, id } = res.json();
  await enrol(app, token, facts("s9"));
  const list = (await app.inject({ method: "GET", url: "/v1/join-tokens", headers: auth })).json();
  const row = list.tokens.find((x: { id: string }) => x.id === id);
  t.same([row.uses, row.maxUses, row.replace, typeof row.lastUsedAt], [1, 1, true, "string"]);
  const bad = await app.inject({
    method: "POST",
    url: "/v1/join-tokens",
    headers: auth,
    payload: { role: "server", maxUses: 0 },
  });
  t.same([bad.statusCode, bad.json().error.details[0].path], [400, "maxUses"]);
});
