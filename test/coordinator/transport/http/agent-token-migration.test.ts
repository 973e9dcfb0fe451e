import t from "tap";
import { auth, makeApp } from "../../helpers/harness.ts";

// POST /v1/agent-token/migration (docs/reference.md#agent-token-migration): admin only, no options,
// 409 NOT_LEGACY in the contract's error shape on a cluster formed by this version. The migration
// itself: test/coordinator/domain/operations/agent-token.test.ts and the lab test.

t.test("a cluster formed by this version: 409 NOT_LEGACY; options refused; admin only", async (t) => {
  const { app } = await makeApp(t);
  const post = (payload?: object, headers: Record<string, string> = auth) =>
    app.inject({
      method: "POST",
      url: "/v1/agent-token/migration",
      headers,
      ...(payload ? { payload } : {}),
    });
  const r = await post();
  t.equal(r.statusCode, 409, r.body);
  t.same(Object.keys(r.json()), ["error"]);
  t.match(r.json().error, { code: "NOT_LEGACY", message: /already uses the agent token/ });
  const bad = await post({ force: true });
  t.equal(bad.statusCode, 400, bad.body);
  t.equal(bad.json().error.code, "VALIDATION_FAILED");
  t.equal((await post(undefined, {})).statusCode, 401, "no admin token: 401");
  const ops = await app.inject({ method: "GET", url: "/v1/operations", headers: auth });
  t.same(ops.json().operations, [], "no operation was created");
});

t.test("accepted: 202 with the operation, and the admin action is audited", async (t) => {
  const accepted = {
    operation: { id: "op-agtok-123456", type: "agent-token" as const, node: null, state: "running" as const },
  };
  let asked: string | undefined;
  const { app, service } = await makeApp(t, {
    wrap: (s) => ({
      ...s,
      startAgentTokenMigration: (by?: string) => {
        asked = by;
        return accepted;
      },
    }),
  });
  const r = await app.inject({
    method: "POST",
    url: "/v1/agent-token/migration",
    headers: auth,
    payload: {},
  });
  t.equal(r.statusCode, 202, r.body);
  t.same(r.json(), accepted);
  t.equal(asked, "127.0.0.1", "who asked is passed on");
  const audited = service.listEvents(0, 1000).events.filter((e) => e.type === "admin.action");
  t.match(
    audited.map((e) => e.message),
    [/agent-token migration of the cluster: operation op-agtok-123456/],
  );
});
