import { CheckResultSchema } from "@muster/shared";
import t from "tap";
import { startAgent } from "../helpers/agent-harness.ts";
import { startFakeCoordinator, welcome } from "../helpers/fake-coordinator.ts";
import { FAKE_TOKEN, fakeRke2Host } from "../helpers/fake-rke2.ts";
import { fakeHost, samplePlan } from "../helpers/fakes.ts";

const CREDENTIAL = "node-credential-0123456789abcdef";

t.test(
  "bad and unknown frames are refused and logged; the agent stays up on the same connection",
  async (t) => {
    const fc = await startFakeCoordinator();
    t.teardown(() => fc.close());
    const root = t.testdir();
    const { agent, lines } = startAgent(t, root, fakeHost(root), {
      coordinatorUrl: fc.url,
      pin: fc.cert.pin,
    });
    await fc.next((f) => f.type === "enrol");
    const ws = fc.sockets[0]!;
    ws.send(JSON.stringify(welcome("node-1", CREDENTIAL, 1)));
    const refused: string[] = [];
    agent.on("frame-refused", (r: string) => refused.push(r));
    ws.send("this is not json");
    ws.send(JSON.stringify({ type: "reboot", now: true }));
    ws.send(JSON.stringify({ type: "checks.run", requestId: "r1" }));
    ws.send(JSON.stringify({ type: "plan.apply", plan: { ...samplePlan(), checksum: "nope" } }));
    ws.send(Buffer.from([0xff, 0x00, 0x13]));
    ws.send(JSON.stringify({ type: "error", code: "CONFLICT", message: "something" }));
    ws.send(
      JSON.stringify({
        type: "checks.run",
        requestId: "r2",
        role: "agent",
        minimums: { cpus: 1, memoryGiB: 1, diskGiB: 1 },
        ignore: [],
        peers: [],
        vipInUse: false,
      }),
    );
    const result = await fc.next((f) => f.type === "checks.result");
    t.equal(result.requestId, "r2", "still answering on the same connection");
    t.equal(fc.sockets.length, 1, "never reconnected");
    t.equal(refused.length, 5);
    t.match(refused.join("\n"), /not JSON[\s\S]*reboot[\s\S]*invalid checks\.run frame[\s\S]*plan\.checksum/);
    t.ok(lines.some((l) => /coordinator reported an error/.test(l) && /CONFLICT/.test(l)));
    await fc.next((f) => f.type === "heartbeat", 3000);
    t.pass("heartbeats flow at welcome.heartbeatSeconds");
  },
);

t.test("checks.run -> checks.result with schema-valid results for the asked role", async (t) => {
  const fc = await startFakeCoordinator();
  t.teardown(() => fc.close());
  const root = t.testdir();
  startAgent(t, root, fakeHost(root, { uid: 1000 }), { coordinatorUrl: fc.url, pin: fc.cert.pin });
  await fc.next((f) => f.type === "enrol");
  fc.sockets[0]!.send(JSON.stringify(welcome("node-1", CREDENTIAL)));
  fc.sockets[0]!.send(
    JSON.stringify({
      type: "checks.run",
      requestId: "q1",
      role: "server",
      minimums: { cpus: 64, memoryGiB: 4, diskGiB: 50 },
      ignore: ["root"],
      peers: [],
      vipInUse: false,
      vip: { address: "10.0.0.100", interface: "eth0" },
    }),
  );
  const r = await fc.next((f) => f.type === "checks.result");
  const results = r.results as Array<{ name: string; status: string }>;
  for (const c of results) t.ok(CheckResultSchema.safeParse(c).success, c.name);
  t.equal(results.find((c) => c.name === "cpu")!.status, "fail", "64 CPU minimum applied");
  t.equal(results.find((c) => c.name === "root")!.status, "warn", "ignore list applied");
  t.ok(
    results.some((c) => c.name === "vip-free"),
    "VIP checks included",
  );
});

t.test(
  "plan.apply: phases reported in order, token.captured then plan.done; a tampered plan is refused",
  async (t) => {
    const fc = await startFakeCoordinator();
    t.teardown(() => fc.close());
    const root = t.testdir();
    const sim = fakeRke2Host(root);
    startAgent(t, root, sim.host, { coordinatorUrl: fc.url, pin: fc.cert.pin });
    await fc.next((f) => f.type === "enrol");
    const ws = fc.sockets[0]!;
    ws.send(JSON.stringify(welcome("node-1", CREDENTIAL)));
    const init = samplePlan({
      init: true,
      captureToken: true,
      config: { "node-name": "node-1", "node-ip": "10.0.0.11" },
      readiness: { registrationAddress: null, timeoutSeconds: 5 },
    });
    ws.send(JSON.stringify({ type: "plan.apply", plan: init }));
    const done = await fc.next((f) => f.type === "plan.done");
    t.equal(done.ok, true);
    const seq = fc.frames
      .filter((f) => ["phase", "token.captured", "plan.done"].includes(f.frame.type as string))
      .map((f) => (f.frame.type === "phase" ? `${f.frame.phase}:${f.frame.status}` : f.frame.type));
    t.same(seq.slice(-4), [
      "capture-token:started",
      "token.captured",
      "capture-token:succeeded",
      "plan.done",
    ]);
    t.equal(fc.frames.find((f) => f.frame.type === "token.captured")!.frame.token, FAKE_TOKEN.trim());

    const tampered = { ...samplePlan({ node: "node-1" }), node: "node-1", config: { token: "evil" } };
    ws.send(JSON.stringify({ type: "plan.apply", plan: tampered }));
    const refused = await fc.next((f) => f.type === "plan.done" && f.checksum === tampered.checksum);
    t.equal(refused.ok, false);
    t.match(refused.message, /plan refused: its checksum does not match/);

    const other = samplePlan({ node: "node-2" });
    ws.send(JSON.stringify({ type: "plan.apply", plan: other }));
    const wrongNode = await fc.next((f) => f.type === "plan.done" && f.checksum === other.checksum);
    t.match(wrongNode.message, /for node node-2, this node is node-1/);
  },
);

t.test("plan reports made while disconnected are delivered after the next welcome", async (t) => {
  const fc = await startFakeCoordinator();
  t.teardown(() => fc.close());
  const root = t.testdir();
  const sim = fakeRke2Host(root);
  let release!: () => void;
  const gate = new Promise<void>((r) => {
    release = r;
  });
  const enableNow = sim.host.systemd.enableNow;
  sim.host.systemd.enableNow = async (u, o) => {
    await gate;
    return enableNow(u, o);
  };
  startAgent(t, root, sim.host, {
    coordinatorUrl: fc.url,
    pin: fc.cert.pin,
    node: "node-1",
    credential: CREDENTIAL,
  });
  await fc.next((f) => f.type === "hello");
  fc.sockets[0]!.send(JSON.stringify(welcome("node-1")));
  const plan = samplePlan({
    config: {
      server: "https://10.0.0.100:9345",
      token: FAKE_TOKEN,
      "node-name": "node-1",
      "node-ip": "10.0.0.11",
    },
  });
  fc.sockets[0]!.send(JSON.stringify({ type: "plan.apply", plan }));
  await fc.next((f) => f.type === "phase" && f.phase === "start" && f.status === "started");
  fc.sockets[0]!.terminate();
  release();
  await fc.next((f) => f.type === "hello");
  t.equal(fc.frames.filter((f) => f.conn === 1).length, 1, "nothing sent before welcome");
  fc.sockets[1]!.send(JSON.stringify(welcome("node-1")));
  const done = await fc.next((f) => f.type === "plan.done");
  t.equal(done.ok, true);
  t.ok(
    fc.frames.some(
      (f) =>
        f.conn === 1 &&
        f.frame.type === "phase" &&
        f.frame.phase === "start" &&
        f.frame.status === "succeeded",
    ),
  );
});
