import t from "tap";
import { formInit, makeWorld } from "../../helpers/domain.ts";
import { auth, makeApp } from "../../helpers/harness.ts";

t.test("GET /v1/whatif: admin only, no query, empty before any server joined", async (t) => {
  const { app } = await makeApp(t);
  const res = await app.inject({ method: "GET", url: "/v1/whatif", headers: auth });
  t.equal(res.statusCode, 200);
  t.same(res.json(), { servers: [], warnings: [] });
  t.equal((await app.inject({ method: "GET", url: "/v1/whatif" })).statusCode, 401);
  const bad = await app.inject({ method: "GET", url: "/v1/whatif?x=1", headers: auth });
  t.equal(bad.statusCode, 400);
  t.equal(bad.json().error.code, "VALIDATION_FAILED");
});

t.test(
  "what-if of the domain: the joined init server, and a disconnected one counts as unhealthy",
  async (t) => {
    const w = makeWorld(t);
    formInit(w, "s1");
    const view = w.coord.getWhatIf();
    t.same(view.servers, [{ node: "s1", ifLost: { quorumKept: false, toleranceLeft: 0 } }]);
    t.match(view.warnings.join("\n"), /1 server: no fault tolerance/);
    w.coord.detach("s1", w.links.get("s1")!);
    t.match(w.coord.getWhatIf().warnings[0], /etcd has lost quorum: 0 of 1 members healthy/);
  },
);
