import t from "tap";
import { auth, makeApp } from "../../helpers/harness.ts";

const get = (url: string) => ({ method: "GET" as const, url, headers: auth });

t.test(
  "GET /v1/operations lists none on a new coordinator; an unknown id is 404, a bad one 400",
  async (t) => {
    const { app } = await makeApp(t);
    const list = await app.inject(get("/v1/operations"));
    t.equal(list.statusCode, 200);
    t.same(list.json(), { operations: [] });
    const missing = await app.inject(get("/v1/operations/op-zzzzzz-000000"));
    t.equal(missing.statusCode, 404);
    t.same(missing.json(), {
      error: { code: "NOT_FOUND", message: "operation op-zzzzzz-000000 does not exist" },
    });
    const bad = await app.inject(get("/v1/operations/not-an-id"));
    t.equal(bad.statusCode, 400);
    t.equal(bad.json().error.code, "VALIDATION_FAILED");
    const anon = await app.inject({ method: "GET", url: "/v1/operations" });
    t.equal(anon.statusCode, 401, "admin only");
  },
);
