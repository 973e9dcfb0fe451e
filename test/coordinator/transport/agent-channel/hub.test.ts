import { truncateReason } from "@muster/coordinator/transport/agent-channel/protocol";
import { CloseCodes, MAX_FRAME_BYTES, MusterError } from "@muster/shared";
import t from "tap";
import { auth, createJoinToken, enrol, FakeAgent, facts, makeApp, snapshot } from "../../helpers/harness.ts";

// The agent channel refuses anything malformed or unauthenticated by closing with a code and a
// reason that names the problem; the process stays up and stored state does not change.

const enrolFrame = (joinToken: string, name: string) => ({
  type: "enrol",
  joinToken,
  facts: facts(name),
  agentVersion: "0.1.0",
});

t.test("malformed or unauthenticated first frames are refused with a named reason", async (t) => {
  const { app } = await makeApp(t);
  const { token } = await createJoinToken(app, "agent");
  const before = await snapshot(app);
  const cases: Array<[string, unknown, number, RegExp]> = [
    ["invalid JSON", "{not json", CloseCodes.BAD_FRAME, /^invalid JSON/],
    ["not an object", "[1,2]", CloseCodes.BAD_FRAME, /JSON object with a string "type"/],
    ["no type", { joinToken: token }, CloseCodes.BAD_FRAME, /string "type"/],
    ["unknown type", { type: "bogus" }, CloseCodes.BAD_FRAME, /^unknown frame type "bogus"$/],
    [
      "extra field",
      { ...enrolFrame(token, "w-1"), admin: true },
      CloseCodes.BAD_FRAME,
      /bad enrol frame: admin: unknown field/,
    ],
    ["missing field", { type: "enrol", joinToken: token, agentVersion: "1" }, CloseCodes.BAD_FRAME, /facts/],
    [
      "bad nested field",
      { ...enrolFrame(token, "w-1"), facts: { ...facts("w-1"), machineId: "x" } },
      CloseCodes.BAD_FRAME,
      /facts\.machineId/,
    ],
    [
      "frame before auth",
      { type: "heartbeat" },
      CloseCodes.UNAUTHORIZED,
      /first frame must be enrol or hello, got heartbeat/,
    ],
    [
      "wrong join token",
      enrolFrame(`${token.slice(0, 7)}aaaaaaaaaaaaaaaa`, "w-1"),
      CloseCodes.UNAUTHORIZED,
      /join token is not valid/,
    ],
    ["malformed join token", enrolFrame("abc", "w-1"), CloseCodes.BAD_FRAME, /joinToken/],
    [
      "unknown node hello",
      {
        type: "hello",
        node: "ghost",
        credential: "c".repeat(43),
        facts: facts("ghost"),
        agentVersion: "1",
        appliedChecksum: null,
      },
      CloseCodes.UNAUTHORIZED,
      /UNAUTHORIZED/,
    ],
  ];
  for (const [what, frame, code, reason] of cases) {
    const agent = await FakeAgent.connect(app);
    agent.send(frame);
    const closed = await agent.closed;
    t.equal(closed.code, code, `${what}: code`);
    t.match(closed.reason, reason, `${what}: reason "${closed.reason}"`);
    t.ok(Buffer.byteLength(closed.reason) <= 123);
  }
  const binary = await FakeAgent.connect(app);
  binary.ws.send(Buffer.from([1, 2, 3]), { binary: true });
  t.match(await binary.closed, { code: CloseCodes.BAD_FRAME, reason: /binary frames/ });

  const big = await FakeAgent.connect(app);
  big.send(JSON.stringify({ type: "heartbeat", pad: "x".repeat(MAX_FRAME_BYTES) }));
  // Before auth the smaller pre-auth limit applies (refused as the frame's header arrives).
  t.match(await big.closed, {
    code: CloseCodes.BAD_FRAME,
    reason: "first frame larger than 65536 bytes",
  });

  t.equal(await snapshot(app), before, "nothing stored changed");
  const { welcome } = await enrol(app, token, facts("w-ok"));
  t.equal(welcome.node, "w-ok", "later connections still work");
});

t.test("expired and revoked join tokens are refused", async (t) => {
  let clock = Date.now();
  const { app } = await makeApp(t, { coordinator: { now: () => clock } });
  const expiring = (
    await app.inject({
      method: "POST",
      url: "/v1/join-tokens",
      headers: auth,
      payload: { role: "agent", ttlSeconds: 60 },
    })
  ).json();
  const revoked = await createJoinToken(app, "agent");
  await app.inject({ method: "DELETE", url: `/v1/join-tokens/${revoked.id}`, headers: auth });
  clock += 61_000;
  for (const [token, reason] of [
    [expiring.token, /expired/],
    [revoked.token, /revoked/],
  ] as const) {
    const agent = await FakeAgent.connect(app);
    agent.send(enrolFrame(token, "w-1"));
    t.match(await agent.closed, { code: CloseCodes.UNAUTHORIZED, reason });
  }
  t.same((await app.inject({ method: "GET", url: "/v1/nodes", headers: auth })).json(), { nodes: [] });
});

t.test("enrol, then hello with the node's own credential; never another node's", async (t) => {
  const { app } = await makeApp(t);
  const { token } = await createJoinToken(app, "agent");
  const factsA = facts("w-a");
  const a = await enrol(app, token, factsA);
  const b = await enrol(app, token, facts("w-b"));
  t.equal(typeof a.welcome.credential, "string");
  t.equal(a.welcome.heartbeatSeconds, 3, "a third of timeouts.heartbeat (10 s), less a second");

  const again = await FakeAgent.connect(app);
  again.send({ type: "enrol", joinToken: token, facts: facts("w-c"), agentVersion: "1" });
  await again.next("welcome");
  again.send(enrolFrame(token, "w-d"));
  t.match(await again.closed, {
    code: CloseCodes.BAD_FRAME,
    reason: "enrol is only valid as the first frame",
  });

  const hello = (node: string, credential: string) => ({
    type: "hello",
    node,
    credential,
    facts: factsA,
    agentVersion: "0.1.0",
    appliedChecksum: null,
  });
  const thief = await FakeAgent.connect(app);
  thief.send(hello("w-a", b.welcome.credential!));
  t.match(await thief.closed, { code: CloseCodes.UNAUTHORIZED });

  const back = await FakeAgent.connect(app);
  back.send(hello("w-a", a.welcome.credential!));
  const welcome = await back.next("welcome");
  t.same(welcome, { type: "welcome", node: "w-a", heartbeatSeconds: 3 }, "no credential after hello");
  t.match(await a.agent.closed, { code: CloseCodes.REPLACED }, "the older link is replaced");
  back.send({ type: "heartbeat" });
  t.equal((await app.inject({ method: "GET", url: "/v1/nodes/w-a", headers: auth })).json().connected, true);
});

t.test("domain errors: MusterError -> error frame, auth errors close, crashes stay contained", async (t) => {
  let fail: unknown = null;
  const { app, logs } = await makeApp(t, {
    wrap: (s) => ({
      ...s,
      handleFrame: (node, frame) => {
        if (fail) throw fail;
        s.handleFrame(node, frame);
      },
    }),
  });
  const { token } = await createJoinToken(app, "agent");
  const { agent } = await enrol(app, token, facts("w-e"));
  fail = new MusterError("CONFLICT", "not now");
  agent.send({ type: "heartbeat" });
  t.same(await agent.next("error"), { type: "error", code: "CONFLICT", message: "not now" });
  fail = new Error("boom: /secret/internal/path");
  agent.send({ type: "heartbeat" });
  t.same(await agent.next("error"), { type: "error", code: "INTERNAL", message: "Internal error" });
  t.ok(
    logs.some((l) => l.includes("boom")),
    "the real error is logged",
  );
  fail = new MusterError("FORBIDDEN", "node was removed");
  agent.send({ type: "heartbeat" });
  t.match(await agent.closed, { code: CloseCodes.FORBIDDEN, reason: /node was removed/ });
  fail = null;
  t.ok((await enrol(app, token, facts("w-f"))).welcome, "still serving");
});

t.test("an enrolment's welcome (with its credential) waits until the enrolment is durable", async (t) => {
  let release: (ok: boolean) => void = () => {};
  const { app } = await makeApp(t, {
    wrap: (s) => ({
      ...s,
      durable: () =>
        new Promise<void>((resolve, reject) => {
          release = (ok) => (ok ? s.durable().then(resolve) : reject(new Error("disk full")));
        }),
    }),
  });
  const { token } = await createJoinToken(app, "agent");
  const agent = await FakeAgent.connect(app);
  agent.send(enrolFrame(token, "w-dur"));
  // The node exists (in the open transaction) but the agent has heard nothing yet.
  await waitFor(
    async () =>
      (await app.inject({ method: "GET", url: "/v1/nodes/w-dur", headers: auth })).statusCode === 200,
  );
  t.equal(agent.frames.length, 0, "no welcome before the enrolment is durable");
  release(true);
  const welcome = await agent.next("welcome");
  t.equal(typeof welcome.credential, "string", "then the welcome, with the credential");

  const lost = await FakeAgent.connect(app);
  lost.send(enrolFrame(token, "w-lost"));
  await waitFor(
    async () =>
      (await app.inject({ method: "GET", url: "/v1/nodes/w-lost", headers: auth })).statusCode === 200,
  );
  release(false);
  t.match(await lost.closed, { code: 1011, reason: /could not be stored/ });
  t.notOk(
    lost.frames.some((f) => f.type === "welcome"),
    "a credential that was not stored is never sent",
  );
});

t.test("timeouts: no first frame within the auth window, no heartbeat for 3 intervals", async (t) => {
  const { app } = await makeApp(t, {
    app: { hub: { authTimeoutMs: 200, sweepMs: 50, heartbeatSeconds: 1, shutdownGraceMs: 50 } },
  });
  // The hub's sweep timer is unref'd (a listening socket keeps a real server alive); inject has none.
  const keepAlive = setInterval(() => {}, 1000);
  t.teardown(() => clearInterval(keepAlive));
  const silent = await FakeAgent.connect(app);
  t.match(await silent.closed, {
    code: CloseCodes.UNAUTHORIZED,
    reason: "no enrol or hello frame within 0.2 s",
  });

  const { token } = await createJoinToken(app, "agent");
  const beating = await enrol(app, token, facts("w-h"));
  const timer = setInterval(() => beating.agent.send({ type: "heartbeat" }), 300);
  t.teardown(() => clearInterval(timer));
  const started = Date.now();
  const { agent, welcome } = await enrol(app, token, facts("w-t"));
  t.equal(welcome.heartbeatSeconds, 1);
  t.match(await agent.closed, { code: CloseCodes.HEARTBEAT_TIMEOUT, reason: "no heartbeat for 3 s" });
  t.ok(Date.now() - started >= 3000, "not before 3 missed intervals");
  t.equal(beating.agent.ws.readyState, 1, "an agent sending heartbeats stays connected");
});

t.test("close reasons are cut to 123 bytes on a character boundary", async (t) => {
  t.equal(truncateReason("short"), "short");
  const cut = truncateReason("é".repeat(200));
  t.ok(Buffer.byteLength(cut) <= 123);
  t.notMatch(cut, /\uFFFD/);
});

async function waitFor(cond: () => Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}
