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
