import path from "node:path";
import { runOperator } from "@muster/cli/main";
import Fastify from "fastify";
import t from "tap";
import { makeTestTls } from "../coordinator/transport/delivery/helpers/tls-cert.ts";

// `muster agent-token migrate` against a stand-in API in the contract's shapes: it starts the
// operation, follows its steps on stderr, exits 0 when it succeeded and 1 with the reason otherwise.

const TOKEN = "admin-token-agent-token";
const tls = makeTestTls();
const dir = t.testdir({ "ca.crt": tls.caCert });
const CA = path.join(dir, "ca.crt");

const world = { polls: 0, fail: false, notLegacy: false, posts: 0 };
function op(state: string, steps: [string, string][], reason?: string) {
  return {
    id: "op-agtok1",
    type: "agent-token",
    node: null,
    state,
    ...(reason ? { reason } : {}),
    steps: steps.map(([name, s]) => ({ name, state: s })),
    createdAt: "2030-01-01T00:00:00.000Z",
  };
}
const app = Fastify({ https: { cert: tls.cert, key: tls.key } });
app.post("/v1/agent-token/migration", async (_req, reply) => {
  world.posts += 1;
  world.polls = 0;
  if (world.notLegacy)
    return reply.code(409).send({
      error: { code: "NOT_LEGACY", message: "the cluster already uses the agent token" },
    });
  return reply
    .code(202)
    .send({ operation: { id: "op-agtok1", type: "agent-token", node: null, state: "running" } });
});
app.get("/v1/operations/:id", async () => {
  world.polls += 1;
  if (world.polls === 1) return op("running", [["restart server s2 with agent-token", "running"]]);
  if (world.fail)
    return op(
      "failed",
      [["restart server s2 with agent-token", "failed"]],
      "rke2-server on s2 did not start with the new agent-token: exit 1",
    );
  return op("succeeded", [["restart server s2 with agent-token", "succeeded"]]);
});
await app.listen({ host: "127.0.0.1", port: 0 });
t.teardown(() => app.close());
const address = app.server.address();
const url = typeof address === "object" && address ? `https://127.0.0.1:${address.port}` : "";

async function muster(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runOperator([...argv, "--ca-file", CA], {
    env: { MUSTER_SERVER: url, MUSTER_TOKEN: TOKEN },
    out: (s) => out.push(s),
    err: (s) => err.push(s),
    defaults: { server: "https://127.0.0.1:1", caFile: "/nonexistent", tokenFile: "/nonexistent" },
    followIntervalMs: 5,
  });
  return { code, stdout: out.join("\n"), stderr: err.join("\n") };
}

t.test("migrate: follows the steps, exit 0; a failure exits 1 with the reason", async (t) => {
  const r = await muster(["agent-token", "migrate"]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stderr, /restart server s2 with agent-token: succeeded/);
  t.match(r.stdout, /^the cluster uses the agent token: .*\(operation op-agtok1\)$/);
  world.fail = true;
  const failed = await muster(["agent-token", "migrate"]);
  t.equal(failed.code, 1);
  t.match(failed.stderr, /agent-token migration failed: rke2-server on s2 did not start/);
  world.fail = false;
});

t.test("NOT_LEGACY exits 1 with the message; --no-wait; usage errors", async (t) => {
  world.notLegacy = true;
  const refused = await muster(["agent-token", "migrate"]);
  t.equal(refused.code, 1);
  t.match(refused.stderr, /already uses the agent token/);
  world.notLegacy = false;
  const nowait = await muster(["agent-token", "migrate", "--no-wait", "-o", "json"]);
  t.equal(nowait.code, 0, nowait.stderr);
  t.match(JSON.parse(nowait.stdout), { operation: { id: "op-agtok1", type: "agent-token" } });
  const posts = world.posts;
  t.equal((await muster(["agent-token"])).code, 2, "no subcommand: usage");
  t.equal((await muster(["agent-token", "migrate", "extra"])).code, 2, "extra argument: usage");
  t.equal(world.posts, posts, "nothing was posted for a usage error");
});
