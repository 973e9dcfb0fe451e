import t from "tap";
import { makeApp } from "../../helpers/harness.ts";

t.test("GET /readyz is 503 until the listener is up, then 200; /healthz answers throughout", async (t) => {
  const { app } = await makeApp(t);
  const before = await app.inject({ method: "GET", url: "/readyz" });
  t.equal(before.statusCode, 503);
  t.same(before.json(), { error: { code: "UNAVAILABLE", message: "not listening yet" } });
  t.equal((await app.inject({ method: "GET", url: "/healthz" })).statusCode, 200);

  await app.listen({ host: "127.0.0.1", port: 0 });
  const after = await app.inject({ method: "GET", url: "/readyz" });
  t.equal(after.statusCode, 200, "open: no token needed");
  t.same(after.json(), { status: "ready" });
});
