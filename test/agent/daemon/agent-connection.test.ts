import { readFileSync, statSync } from "node:fs";
import path from "node:path";
import { AgentFrameSchema, CloseCodes } from "@muster/shared";
import t from "tap";
import { parse } from "yaml";
import { selfSignedCert } from "../../helpers/self-signed-cert.ts";
import { JOIN_TOKEN, once, startAgent } from "../helpers/agent-harness.ts";
import { startFakeCoordinator, welcome } from "../helpers/fake-coordinator.ts";
import { fakeHost } from "../helpers/fakes.ts";

const CREDENTIAL = "node-credential-0123456789abcdef";

t.test("enrol -> welcome with credential -> agent.yaml rewritten 0600; reconnect says hello", async (t) => {
  const fc = await startFakeCoordinator();
  t.teardown(() => fc.close());
  const root = t.testdir();
  const { agent } = startAgent(t, root, fakeHost(root), {
    coordinatorUrl: fc.url,
    pin: fc.cert.pin,
    nodeName: "web-1",
  });

  const enrol = await fc.next((f) => f.type === "enrol");
  t.ok(AgentFrameSchema.safeParse(enrol).success, "enrol is schema-valid");
  t.equal(enrol.joinToken, JOIN_TOKEN);
  t.equal(enrol.nodeName, "web-1");
  const welcomed = once(agent, "welcome");
  fc.sockets[0]!.send(JSON.stringify(welcome("web-1", CREDENTIAL)));
  await welcomed;
  await new Promise((r) => setTimeout(r, 50));

  const file = path.join(root, "etc/muster/agent.yaml");
  t.equal(statSync(file).mode & 0o777, 0o600);
  const doc = parse(readFileSync(file, "utf8"));
  t.equal(doc.node, "web-1");
  t.equal(doc.credential, CREDENTIAL);
  t.notOk("joinToken" in doc, "join token dropped after enrolment");

  fc.sockets[0]!.close(1012, "restart");
  const hello = await fc.next((f) => f.type === "hello");
  t.same(
    { node: hello.node, credential: hello.credential, appliedChecksum: hello.appliedChecksum },
    { node: "web-1", credential: CREDENTIAL, appliedChecksum: null },
  );
  t.notOk(
    fc.frames.filter((f) => f.conn === 1).some((f) => f.frame.type === "enrol"),
    "no second enrol",
  );
});

t.test("a wrong pin: TLS is torn down before anything is sent; the join token never leaves", async (t) => {
  const fc = await startFakeCoordinator();
  t.teardown(() => fc.close());
  const root = t.testdir();
  const wrongPin = selfSignedCert().pin;
  const { agent, lines } = startAgent(t, root, fakeHost(root), { coordinatorUrl: fc.url, pin: wrongPin });
  const end = await once<{ pinMismatch: boolean }>(agent, "disconnected");
  t.ok(end.pinMismatch);
  await new Promise((r) => setTimeout(r, 600)); // long enough for a retry at the refused backoff
  t.ok(fc.stats.tlsConnections >= 1, "the agent did reach the server");
  t.equal(fc.stats.upgrades, 0, "no WebSocket upgrade completed");
  t.same(fc.frames, [], "no frame at all");
  t.ok(
    lines.some((l) => /does not match the pin/.test(l)),
    "logged clearly",
  );
  t.notOk(lines.join("").includes(JOIN_TOKEN.split(".")[1]!), "join token secret not in logs");
});

for (const [code, reason, hint] of [
  [CloseCodes.UNAUTHORIZED, "UNAUTHORIZED: join token expired", /join token was rejected/],
  [CloseCodes.CONFLICT, "CONFLICT: this machine is already enrolled as server", /fix the conflict/],
] as const) {
  t.test(`a refusal (${code}) backs off long and says why`, async (t) => {
    const fc = await startFakeCoordinator();
    t.teardown(() => fc.close());
    fc.onFrame = (f, ws) => {
      if (f.type === "enrol") ws.close(code, reason);
    };
    const root = t.testdir();
    const { agent, lines } = startAgent(t, root, fakeHost(root), {
      coordinatorUrl: fc.url,
      pin: fc.cert.pin,
    });
    const end = await once<{ code: number }>(agent, "disconnected");
    t.equal(end.code, code);
    await new Promise((r) => setTimeout(r, 150));
    t.equal(fc.stats.upgrades, 1, "no quick retry (the fast backoff would have retried within 100 ms)");
    t.ok(
      lines.some((l) => l.includes(reason) && hint.test(l)),
      "logged with the coordinator's reason",
    );
  });
}

t.test("stop(): closes the socket with 1000", async (t) => {
  const fc = await startFakeCoordinator();
  t.teardown(() => fc.close());
  const root = t.testdir();
  const { agent } = startAgent(t, root, fakeHost(root), { coordinatorUrl: fc.url, pin: fc.cert.pin });
  await fc.next((f) => f.type === "enrol");
  fc.sockets[0]!.send(JSON.stringify(welcome("node-1", CREDENTIAL)));
  await once(agent, "welcome");
  await agent.stop();
  await new Promise((r) => setTimeout(r, 50));
  t.same(
    fc.stats.closes.map((c) => c.code),
    [1000],
  );
  t.equal(fc.sockets.length, 1, "no reconnect after stop");
});

t.test("a coordinator silent for 3 heartbeat intervals is dropped and reconnected to", async (t) => {
  const fc = await startFakeCoordinator();
  t.teardown(() => fc.close());
  const root = t.testdir();
  const { agent } = startAgent(t, root, fakeHost(root), { coordinatorUrl: fc.url, pin: fc.cert.pin });
  await fc.next((f) => f.type === "enrol");
  fc.sockets[0]!.send(JSON.stringify(welcome("node-1", CREDENTIAL, 1)));
  const started = Date.now();
  const end = await once<{ code: number }>(agent, "disconnected", 10_000);
  const silent = Date.now() - started;
  t.ok(silent >= 3000 && silent < 6000, `dropped after ${silent} ms of silence`);
  t.equal(end.code, 1006);
  await fc.next((f) => f.type === "hello");
  t.pass("reconnected with hello");
});
