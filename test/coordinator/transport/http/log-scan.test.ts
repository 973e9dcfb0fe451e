import { formatRke2Token, generateRke2Password, type NodePlan } from "@muster/shared";
import t from "tap";
import { ADMIN_TOKEN, auth, enrol, FakeAgent, facts, makeApp, passChecks } from "../../helpers/harness.ts";

// docs/architecture.md invariant 5 end to end: run enrol -> checks -> plan -> token capture -> joins through the real app,
// with a failure whose message carries the token, and prove that no secret reaches a log line, an
// HTTP response, a close reason or an error frame.

t.test("no secret in any log line, HTTP body, close reason or error frame", async (t) => {
  const { app, logs } = await makeApp(t);
  const password = generateRke2Password();
  const rke2Token = formatRke2Token(
    "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
    password,
  );
  const bodies: string[] = [];
  const seen: string[] = []; // close reasons and error frames
  const call = async (method: "GET" | "POST" | "PUT" | "DELETE", url: string, payload?: unknown) => {
    const res = await app.inject({
      method,
      url,
      headers: auth,
      ...(payload === undefined ? {} : { payload: payload as object }),
    });
    // POST /v1/join-tokens returns its token once, by contract; every other body is scanned.
    if (!(method === "POST" && url === "/v1/join-tokens")) bodies.push(res.body);
    return res;
  };
  const joinTokens: string[] = [];
  const newJoinToken = async (role: "server" | "agent") => {
    const token = (await call("POST", "/v1/join-tokens", { role })).json().token as string;
    joinTokens.push(token);
    return token;
  };

  // Init server: enrol, checks, plan, phases, token capture, done.
  const serverToken = await newJoinToken("server");
  const init = await enrol(app, serverToken, facts("cp-1"));
  await passChecks(init.agent);
  const initPlan = (await init.agent.next("plan.apply")).plan;
  t.ok(initPlan.init && initPlan.captureToken, "init plan captures the token");
  for (const phase of ["install", "configure", "start", "wait-ready", "capture-token"] as const)
    init.agent.send({ type: "phase", checksum: initPlan.checksum, phase, status: "succeeded" });
  init.agent.send({ type: "token.captured", checksum: initPlan.checksum, token: rke2Token });
  init.agent.send({ type: "plan.done", checksum: initPlan.checksum, ok: true });
  await waitFor(async () => (await call("GET", "/v1/nodes/cp-1")).json().state === "joined");

  // A second server gets the token in its plan (the only place it may go).
  const cp2 = await enrol(app, serverToken, facts("cp-2"));
  await passChecks(cp2.agent);
  const cp2Plan: NodePlan = (await cp2.agent.next("plan.apply")).plan;
  t.equal(cp2Plan.config["token"], rke2Token, "a joining server's plan carries the token");
  cp2.agent.send({ type: "plan.done", checksum: cp2Plan.checksum, ok: true });

  // A worker whose install fails with the token in its output, then a retry that succeeds.
  const agentToken = await newJoinToken("agent");
  const worker = await enrol(app, agentToken, facts("worker-1"));
  await passChecks(worker.agent);
  const wPlan = (await worker.agent.next("plan.apply")).plan;
  const leak = `installer said: token=${rke2Token} password ${password}`;
  worker.agent.send({
    type: "phase",
    checksum: wPlan.checksum,
    phase: "install",
    status: "failed",
    message: leak,
  });
  worker.agent.send({ type: "plan.done", checksum: wPlan.checksum, ok: false, message: leak });
  await waitFor(async () => (await call("GET", "/v1/nodes/worker-1")).json().state === "failed");
  await call("POST", "/v1/nodes/worker-1/retry");
  await passChecks(worker.agent);
  const wPlan2 = (await worker.agent.next("plan.apply")).plan;
  worker.agent.send({ type: "plan.done", checksum: wPlan2.checksum, ok: true });
  await waitFor(async () => (await call("GET", "/v1/nodes/worker-1")).json().state === "joined");

  // Reconnect with the node credential; refused attempts that carry secrets.
  const credentials = [init.welcome.credential!, cp2.welcome.credential!, worker.welcome.credential!];
  const back = await FakeAgent.connect(app);
  back.send({
    type: "hello",
    node: "worker-1",
    credential: credentials[2],
    facts: facts("worker-1"),
    agentVersion: "1",
    appliedChecksum: null,
  });
  seen.push((await back.closed).reason); // machine id differs: refused, must not echo the credential
  const extra = await FakeAgent.connect(app);
  extra.send({
    type: "enrol",
    joinToken: agentToken,
    facts: facts("x"),
    agentVersion: "1",
    sneaky: agentToken,
  });
  seen.push((await extra.closed).reason);
  const wrongSpec = await call("PUT", "/v1/cluster", { rke2: { token: formatRke2Token("x", password) } });
  t.equal(wrongSpec.statusCode, 409);
  init.agent.send({
    type: "token.captured",
    checksum: initPlan.checksum,
    token: `K10${"0".repeat(64)}::server:${password}`,
  });

  for (const url of [
    "/v1/cluster",
    "/v1/cluster/spec",
    "/v1/nodes",
    "/v1/plan",
    "/v1/join-tokens",
    "/v1/events?limit=1000",
  ])
    t.equal((await call("GET", url)).statusCode, 200, url);
  for (const agent of [init.agent, cp2.agent, worker.agent])
    for (const f of agent.frames) if (f.type === "error") seen.push(JSON.stringify(f));

  const secrets: Array<[string, string]> = [
    ["RKE2 token", rke2Token],
    ["RKE2 token password", password],
    ["admin token", ADMIN_TOKEN],
    ...joinTokens.flatMap(
      (tok): Array<[string, string]> => [
        ["join token", tok],
        ["join token secret", tok.split(".")[1]!],
      ],
    ),
    ...credentials.map((c): [string, string] => ["node credential", c]),
  ];
  const logText = logs.join("\n");
  t.ok(logs.length > 50, `captured ${logs.length} log lines`);
  t.match(logText, /cluster token captured/, "the capture itself is logged");
  t.ok(
    bodies.some((b) => b.includes("installer said: token=[redacted]")),
    "the failure is shown, scrubbed",
  );
  for (const [what, secret] of secrets) {
    t.notOk(logText.includes(secret), `${what} not in logs`);
    t.notOk(
      bodies.some((b) => b.includes(secret)),
      `${what} not in HTTP responses`,
    );
    t.notOk(
      seen.some((s) => s.includes(secret)),
      `${what} not in close reasons or error frames`,
    );
  }
});

async function waitFor(cond: () => Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}
