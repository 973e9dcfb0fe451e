import { OperationAcceptedSchema, OperationViewSchema } from "@muster/shared";
import t from "tap";
import { auth, createJoinToken, enrol, facts, makeApp, snapshot } from "../../helpers/harness.ts";

// DELETE /v1/nodes/:name over the real app and domain: validation, 404, 202 with the operation,
// followed to its end at /v1/operations/:id; the removed node's agent is cut off.

t.test("DELETE /v1/nodes/:name: 400 and 404 change nothing; 202 removes an enrolled node", async (t) => {
  const { app } = await makeApp(t);
  const { token } = await createJoinToken(app, "agent");
  const { agent } = await enrol(app, token, facts("w-1"));
  const before = await snapshot(app);
  const bad = await app.inject({ method: "DELETE", url: "/v1/nodes/w-1?force=yes", headers: auth });
  t.equal(bad.statusCode, 400);
  t.match(bad.json().error, { code: "VALIDATION_FAILED", details: [{ path: "force" }] });
  const missing = await app.inject({ method: "DELETE", url: "/v1/nodes/nope", headers: auth });
  t.equal(missing.statusCode, 404);
  t.equal((await app.inject({ method: "DELETE", url: "/v1/nodes/w-1" })).statusCode, 401);
  t.equal(await snapshot(app), before, "refusals changed nothing");

  const res = await app.inject({ method: "DELETE", url: "/v1/nodes/w-1", headers: auth });
  t.equal(res.statusCode, 202, res.body);
  const { operation } = OperationAcceptedSchema.parse(res.json());
  t.match(operation, { type: "remove", node: "w-1" });
  const read = async () =>
    OperationViewSchema.parse(
      (await app.inject({ method: "GET", url: `/v1/operations/${operation.id}`, headers: auth })).json(),
    );
  let view = await read();
  const deadline = Date.now() + 5000;
  while (view.state === "running" && Date.now() < deadline) {
    await new Promise((r) => setImmediate(r));
    view = await read();
  }
  t.equal(view.state, "succeeded");
  t.same(
    view.steps.map((s) => s.name),
    ["forget its credential"],
    "never released: nothing on the cluster to undo",
  );
  const node = (await app.inject({ method: "GET", url: "/v1/nodes/w-1", headers: auth })).json();
  t.equal(node.state, "removed");
  t.match(await agent.closed, { code: 4401 }, "its agent is disconnected");
  const again = await app.inject({ method: "DELETE", url: "/v1/nodes/w-1", headers: auth });
  t.equal(again.statusCode, 409);
  t.match(again.json().error.message, /already removed/);
});
