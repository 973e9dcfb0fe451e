import path from "node:path";
import { runOperator } from "@muster/cli/main";
import Fastify from "fastify";
import t from "tap";
import { makeTestTls } from "../coordinator/transport/delivery/helpers/tls-cert.ts";

// `muster nodes approve NODE`, `muster join-tokens [revoke ID]` and join-command's --max-uses and
// --replace against a stand-in API on real HTTPS, recording what the CLI sent.

const TOKEN = "admin-token-0123456789";
const tls = makeTestTls();
const seen: { method: string; url: string; body: unknown }[] = [];
const api = Fastify({ https: { cert: tls.cert, key: tls.key } });
api.addHook("preHandler", async (req) => {
  seen.push({ method: req.method, url: req.url, body: req.body });
});
const node = {
  name: "s1",
  role: "server",
  init: true,
  state: "joined",
  address: "10.0.0.11",
  connected: true,
  enrolledAt: "2030-01-01T00:00:00.000Z",
  claim: {
    state: "approved",
    reason: "approved",
    address: "10.0.0.99",
    hostname: "new-box",
    requestedAt: "2030-01-01T00:00:00.000Z",
  },
};
api.post("/v1/nodes/:name/approve", async (req, reply) =>
  (req.params as { name: string }).name === "s1"
    ? node
    : reply
        .code(409)
        .send({ error: { code: "CONFLICT", message: "no machine is waiting to take over node s2" } }),
);
const tokens = [
  {
    id: "abc123",
    role: "server",
    createdAt: "2030-01-01T00:00:00.000Z",
    expiresAt: "2030-01-02T00:00:00.000Z",
    revoked: false,
    expired: false,
    uses: 1,
    maxUses: 1,
    lastUsedAt: "2030-01-01T00:01:00.000Z",
    replace: true,
  },
];
api.get("/v1/join-tokens", async () => ({ tokens }));
api.delete("/v1/join-tokens/:id", async (_req, reply) => reply.code(204).send());
api.post("/v1/join-tokens", async (_req, reply) =>
  reply.code(201).send({
    id: "abc123",
    token: "abc123.0123456789abcdef",
    role: "server",
    expiresAt: "2030-01-02T00:00:00.000Z",
    command: "curl ...",
  }),
);
await api.listen({ host: "127.0.0.1", port: 0 });
t.teardown(() => api.close());
const address = api.server.address() as { port: number };
const dir = t.testdir({ "ca.crt": tls.caCert });

async function muster(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runOperator([...argv, "--ca-file", path.join(dir, "ca.crt")], {
    env: { MUSTER_SERVER: `https://127.0.0.1:${address.port}`, MUSTER_TOKEN: TOKEN },
    out: (s) => out.push(s),
    err: (s) => err.push(s),
    defaults: { server: "https://127.0.0.1:1", caFile: "/nonexistent/ca.crt", tokenFile: "/nonexistent/x" },
    now: () => Date.parse("2030-01-01T00:02:30.000Z"),
    followIntervalMs: 10,
  });
  return { code, stdout: out.join("\n"), stderr: err.join("\n") };
}

t.test("nodes approve NODE posts the approval and names the machine", async (t) => {
  const r = await muster(["nodes", "approve", "s1"]);
  t.equal(r.code, 0, r.stderr);
  t.same(seen.at(-1), { method: "POST", url: "/v1/nodes/s1/approve", body: undefined });
  t.match(r.stdout, /node s1: machine new-box \(10\.0\.0\.99\) approved/);
  const refused = await muster(["nodes", "approve", "s2"]);
  t.same([refused.code, refused.stderr], [1, "muster: no machine is waiting to take over node s2"]);
  t.equal((await muster(["nodes", "approve"])).code, 2, "a NODE is required");
  t.equal((await muster(["nodes", "approve", "Bad_Name"])).code, 2);
});

t.test("join-tokens lists uses, limits and last use; revoke ID deletes", async (t) => {
  const r = await muster(["join-tokens"]);
  t.equal(r.code, 0, r.stderr);
  const [header, row] = r.stdout.split("\n");
  t.match(header, /^ID +ROLE +STATE +EXPIRES +USES +LAST USED +FLAGS$/);
  t.match(row, /^abc123 +server +valid +2030-01-02 00:00 +1\/1 +2030-01-01 00:01 +replace$/);
  const j = await muster(["join-tokens", "-o", "json"]);
  t.same(JSON.parse(j.stdout), { tokens });
  const revoke = await muster(["join-tokens", "revoke", "abc123"]);
  t.same([revoke.code, revoke.stdout], [0, "join token abc123 revoked"]);
  t.same(seen.at(-1), { method: "DELETE", url: "/v1/join-tokens/abc123", body: undefined });
  t.equal((await muster(["join-tokens", "revoke"])).code, 2);
  t.equal((await muster(["join-tokens", "revoke", "NOT-AN-ID"])).code, 2);
  t.equal((await muster(["join-tokens", "burn", "abc123"])).code, 2);
});

t.test("join-command --max-uses N --replace", async (t) => {
  const r = await muster(["join-command", "--role", "server", "--max-uses", "1", "--replace"]);
  t.equal(r.code, 0, r.stderr);
  t.same(seen.at(-1)?.body, { role: "server", maxUses: 1, replace: true });
  t.equal((await muster(["join-command", "--role", "server", "--max-uses", "0"])).code, 2);
});
