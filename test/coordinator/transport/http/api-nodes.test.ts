import { EventsPageSchema, NodeViewSchema, PlanViewSchema } from "@muster/shared";
import t from "tap";
import { auth, createJoinToken, enrol, facts, makeApp, snapshot } from "../../helpers/harness.ts";

const get = (url: string) => ({ method: "GET" as const, url, headers: auth });

t.test("nodes, plan and events through enrolment, failed checks and a retry", async (t) => {
  const { app } = await makeApp(t);
  t.same((await app.inject(get("/v1/nodes"))).json(), { nodes: [] });
  t.same(PlanViewSchema.parse((await app.inject(get("/v1/plan"))).json()), { steps: [] });

  const { token } = await createJoinToken(app, "server");
  const { agent, welcome } = await enrol(app, token, facts("cp-1"));
  t.equal(welcome.node, "cp-1");
  const run = await agent.next("checks.run");
  t.equal(run.role, "server");

  const list = (await app.inject(get("/v1/nodes"))).json();
  t.equal(list.nodes.length, 1);
  const node = NodeViewSchema.parse(list.nodes[0]);
  t.match(node, { name: "cp-1", role: "server", state: "checking", connected: true });
  const one = await app.inject(get("/v1/nodes/cp-1"));
  t.equal(one.statusCode, 200);
  t.same(one.json(), list.nodes[0]);

  const conflict = await app.inject({ method: "POST", url: "/v1/nodes/cp-1/retry", headers: auth });
  t.equal(conflict.statusCode, 409, "only failed nodes can be retried");
  t.match(conflict.json(), { error: { code: "CONFLICT" } });

  agent.send({
    type: "checks.result",
    requestId: run.requestId,
    results: [
      { name: "memory", status: "fail", message: "1 GiB of memory, 4 GiB needed", fix: "add memory" },
    ],
  });
  await t.resolves(
    waitFor(async () => (await app.inject(get("/v1/nodes/cp-1"))).json().state === "check-failed"),
  );
  const failed = (await app.inject(get("/v1/nodes/cp-1"))).json();
  t.match(failed.checks, [{ name: "memory", status: "fail" }]);
  const plan = PlanViewSchema.parse((await app.inject(get("/v1/plan"))).json());
  t.match(plan.steps, [{ node: "cp-1", role: "server", status: "blocked", reason: /check/ }]);

  const retry = await app.inject({ method: "POST", url: "/v1/nodes/cp-1/retry", headers: auth });
  t.equal(retry.statusCode, 200);
  NodeViewSchema.parse(retry.json());
  t.not(retry.json().state, "check-failed");
  await agent.next("checks.run");

  const events = EventsPageSchema.parse((await app.inject(get("/v1/events"))).json());
  const types: string[] = events.events.map((e) => e.type);
  for (const type of ["join-token.created", "node.enrolled", "node.checks.failed", "node.retry"])
    t.ok(types.includes(type), `event ${type}`);
  t.same(
    events.events.map((e) => e.seq),
    [...events.events.map((e) => e.seq)].sort((a, b) => a - b),
    "in order",
  );
  const page = EventsPageSchema.parse((await app.inject(get("/v1/events?after=1&limit=2"))).json());
  t.equal(page.events.length, 2);
  t.equal(page.events[0]!.seq, 2);
  const rest = EventsPageSchema.parse((await app.inject(get(`/v1/events?after=${page.next}`))).json());
  t.equal(rest.events[0]!.seq, page.events[1]!.seq + 1, "next continues the page");
  agent.close();
});

t.test("unknown nodes are 404; bad names, queries and bodies are 400; nothing changes", async (t) => {
  const { app } = await makeApp(t);
  const { token } = await createJoinToken(app, "agent");
  const { agent } = await enrol(app, token, facts("worker-1"));
  await agent.next("checks.run");
  const before = await snapshot(app);

  const missing = await app.inject(get("/v1/nodes/ghost"));
  t.equal(missing.statusCode, 404);
  t.match(missing.json(), { error: { code: "NOT_FOUND", message: /ghost/ } });
  t.equal(
    (await app.inject({ method: "POST", url: "/v1/nodes/ghost/retry", headers: auth })).statusCode,
    404,
  );

  for (const name of ["Worker-1", "-x", "a_b", "x".repeat(300)]) {
    const res = await app.inject(get(`/v1/nodes/${encodeURIComponent(name)}`));
    t.equal(res.statusCode, 400, `name ${name.slice(0, 20)}`);
    t.same(
      res.json().error.details.map((d: { path: string }) => d.path),
      ["name"],
    );
  }
  const retryBody = await app.inject({
    method: "POST",
    url: "/v1/nodes/worker-1/retry",
    headers: auth,
    payload: { force: true },
  });
  t.equal(retryBody.statusCode, 400);
  t.same(retryBody.json().error.details, [{ path: "force", message: "unknown field" }]);

  const queries: Array<[string, string[]]> = [
    ["limit=0", ["limit"]],
    ["limit=1001", ["limit"]],
    ["limit=abc", ["limit"]],
    ["after=-1", ["after"]],
    ["after=1.5", ["after"]],
    ["after=1&after=2", ["after"]],
    ["since=3", ["since"]],
    ["after=x&limit=y", ["after", "limit"]],
  ];
  for (const [q, paths] of queries) {
    const res = await app.inject(get(`/v1/events?${q}`));
    t.equal(res.statusCode, 400, q);
    t.same(
      res
        .json()
        .error.details.map((d: { path: string }) => d.path)
        .sort(),
      paths.sort(),
      `${q}: details`,
    );
  }
  for (const url of ["/v1/nodes?x=1", "/v1/plan?x=1", "/v1/nodes/worker-1?x=1"]) {
    const res = await app.inject(get(url));
    t.equal(res.statusCode, 400, url);
  }
  t.equal(await snapshot(app), before, "nothing stored changed");
  agent.close();
});

async function waitFor(cond: () => Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}
