import { actorOf, auditHook } from "@muster/coordinator/transport/http/audit";
import { hashSecret } from "@muster/shared";
import Fastify from "fastify";
import t from "tap";
import { ADMIN_TOKEN, auth, type Harness, makeApp } from "../../helpers/harness.ts";

const FROM = "10.1.2.3";
const ACTOR = actorOf(ADMIN_TOKEN);

function adminEvents(h: Harness) {
  return h.service.listEvents(0, 1000).events.filter((e) => e.type === "admin.action");
}
const auditLines = (h: Harness) =>
  h.logs.filter((l) => (JSON.parse(l) as { msg?: string }).msg?.startsWith("audit:"));

t.test(
  "join token created and revoked: an audit line and an event each, naming id, role and origin",
  async (t) => {
    const h = await makeApp(t);
    const created = await h.app.inject({
      method: "POST",
      url: "/v1/join-tokens",
      headers: auth,
      payload: { role: "server", ttlSeconds: 3600 },
      remoteAddress: FROM,
    });
    t.equal(created.statusCode, 201);
    const { id, token, expiresAt } = created.json() as { id: string; token: string; expiresAt: string };
    const revoked = await h.app.inject({
      method: "DELETE",
      url: `/v1/join-tokens/${id}`,
      headers: auth,
      remoteAddress: FROM,
    });
    t.equal(revoked.statusCode, 204);

    t.same(
      adminEvents(h).map((e) => e.message),
      [
        `join token ${id} created (role server, expires ${expiresAt}) by ${ACTOR} from ${FROM}`,
        `join token ${id} revoked by ${ACTOR} from ${FROM}`,
      ],
    );
    const lines = auditLines(h);
    t.equal(lines.length, 2, "one audit line per call");
    const first = JSON.parse(lines[0]!) as { level: number; audit: Record<string, unknown> };
    t.same(first.audit, { action: "POST /v1/join-tokens", status: 201, actor: ACTOR, remote: FROM });
    const secret = token.split(".")[1]!;
    for (const l of h.logs) t.notMatch(l, secret, "the token's secret is in no log line");
    for (const e of h.service.listEvents(0, 1000).events) t.notMatch(e.message, secret);
    t.notMatch(ACTOR, ADMIN_TOKEN.slice(0, 8), "the actor is a hash prefix, not the token");
  },
);

t.test("spec change, a refused retry and reads: what is audited and what is not", async (t) => {
  const h = await makeApp(t);
  const rke2Token = "supersecretclusterpassword";
  const spec = await h.app.inject({
    method: "PUT",
    url: "/v1/cluster",
    headers: auth,
    payload: { name: "prod", rke2: { token: rke2Token } },
  });
  t.equal(spec.statusCode, 200);
  const retry = await h.app.inject({ method: "POST", url: "/v1/nodes/ghost/retry", headers: auth });
  t.equal(retry.statusCode, 404);
  const read = await h.app.inject({ method: "GET", url: "/v1/nodes", headers: auth });
  t.equal(read.statusCode, 200);
  const anon = await h.app.inject({ method: "POST", url: "/v1/join-tokens", payload: { role: "agent" } });
  t.equal(anon.statusCode, 401);

  t.same(
    adminEvents(h).map((e) => [e.node, e.message]),
    [[undefined, `cluster spec replaced by ${ACTOR} from 127.0.0.1`]],
    "refused calls, reads and unauthenticated calls leave no event",
  );
  const lines = auditLines(h).map((l) => JSON.parse(l) as { level: number; msg: string });
  t.same(
    lines.map((l) => [l.level, l.msg]),
    [
      [30, `audit: cluster spec replaced by ${ACTOR} from 127.0.0.1`],
      [
        40,
        `audit: retry of node ghost refused (404 NOT_FOUND: node ghost does not exist) by ${ACTOR} from 127.0.0.1`,
      ],
      [40, "audit: POST /v1/join-tokens refused: no valid admin token"],
    ],
    "a line for each change, done or refused, authenticated or not",
  );
  for (const l of h.logs) t.notMatch(l, rke2Token, "the spec's token is in no log line");
  for (const e of h.service.listEvents(0, 1000).events) t.notMatch(e.message, rke2Token);
});

t.test("a route without words is still audited, by method and path", async (t) => {
  const recorded: Array<[string, string | undefined]> = [];
  const app = Fastify();
  app.addHook(
    "onSend",
    auditHook({
      service: { recordAdminAction: (m, n) => recorded.push([m, n]) },
      adminTokenHash: hashSecret(ADMIN_TOKEN),
    }),
  );
  app.post("/v1/frobnicate/:name", async () => ({ ok: true }));
  app.get("/v1/frobnicate", async () => ({ ok: true }));
  t.teardown(() => app.close());
  await app.inject({ method: "POST", url: "/v1/frobnicate/n1", payload: {} });
  await app.inject({ method: "GET", url: "/v1/frobnicate" });
  t.same(recorded, [[`POST /v1/frobnicate/:name by ${ACTOR} from 127.0.0.1`, "n1"]]);
});
