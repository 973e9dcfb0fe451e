import path from "node:path";
import { runOperator } from "@muster/cli/main";
import Fastify from "fastify";
import t from "tap";
import { makeTestTls } from "../coordinator/transport/delivery/helpers/tls-cert.ts";

// `muster whatif` and `muster remove` against a stand-in API in the contract's shapes: the removal
// waits while the lease is held (saying why), follows the operation, and exits 1 with the reason.

const TOKEN = "admin-token-day-two";
const tls = makeTestTls();
const dir = t.testdir({ "ca.crt": tls.caCert });
const CA = path.join(dir, "ca.crt");

const WHATIF = {
  servers: [
    { node: "s1", ifLost: { quorumKept: false, toleranceLeft: 0 } },
    { node: "s3", ifLost: { quorumKept: true, toleranceLeft: 0 } },
  ],
  warnings: ["etcd has exactly quorum: one more loss stops the control plane"],
};

function op(state: string, steps: [string, string][], reason?: string) {
  return {
    id: "op-abc123",
    type: "remove",
    node: "s3",
    state,
    ...(reason ? { reason } : {}),
    steps: steps.map(([name, s]) => ({ name, state: s })),
    createdAt: "2030-01-01T00:00:00.000Z",
  };
}

const world = { busyAnswers: 0, polls: 0, fail: false, deletes: [] as string[] };
const app = Fastify({ https: { cert: tls.cert, key: tls.key } });
app.get("/v1/whatif", async () => WHATIF);
app.delete<{ Params: { name: string } }>("/v1/nodes/:name", async (req, reply) => {
  world.deletes.push(req.url);
  if (req.params.name === "s1")
    return reply.code(409).send({
      error: {
        code: "QUORUM_GUARD",
        message: "Refused: removing s1 would leave 1 healthy of 2 members, below quorum 2",
        details: [{ path: "healthyAfter", message: "1", value: 1 }],
      },
    });
  if (world.busyAnswers > 0) {
    world.busyAnswers -= 1;
    return reply.code(409).send({
      error: {
        code: "OPERATION_IN_FLIGHT",
        message: "the control-plane lease is held: server s4 is joining",
      },
    });
  }
  world.polls = 0;
  return reply
    .code(202)
    .send({ operation: { id: "op-abc123", type: "remove", node: "s3", state: "running" } });
});
app.get("/v1/operations/:id", async () => {
  world.polls += 1;
  if (world.polls === 1)
    return op("running", [
      ["cordon", "running"],
      ["drain", "pending"],
    ]);
  if (world.fail)
    return op(
      "failed",
      [
        ["cordon", "succeeded"],
        ["drain", "failed"],
      ],
      "drain: timed out",
    );
  return op("succeeded", [
    ["cordon", "succeeded"],
    ["drain", "succeeded"],
  ]);
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

t.test("whatif: a table with the warnings, or the API's JSON", async (t) => {
  const r = await muster(["whatif"]);
  t.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split("\n");
  t.match(lines[0], /^SERVER +IF LOST NOW +TOLERANCE LEFT$/);
  t.match(lines[1], /^s1 +QUORUM LOST +0$/);
  t.match(lines[2], /^s3 +quorum kept +0$/);
  t.match(r.stdout, /warnings:\n {2}- etcd has exactly quorum: one more loss stops the control plane/);
  const j = await muster(["whatif", "-o", "json"]);
  t.same(JSON.parse(j.stdout), WHATIF);
  t.equal((await muster(["whatif", "extra"])).code, 2);
});

t.test("remove: waits for the lease with the reason, follows the steps, exit 0", async (t) => {
  world.busyAnswers = 2;
  world.fail = false;
  const r = await muster(["remove", "s3", "--force"]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stderr, /waiting: the control-plane lease is held: server s4 is joining/);
  t.equal(r.stderr.split("waiting:").length - 1, 1, "the same reason is printed once");
  t.match(r.stderr, /cordon: running/);
  t.match(r.stderr, /drain: succeeded/);
  t.equal(r.stdout, "node s3 removed (operation op-abc123)");
  t.equal(world.deletes.at(-1), "/v1/nodes/s3?force=true");
});

t.test("remove: a failed operation and a quorum guard exit 1 with the reason", async (t) => {
  world.fail = true;
  const failed = await muster(["remove", "s3"]);
  t.equal(failed.code, 1);
  t.match(failed.stderr, /removal of s3 failed: drain: timed out/);
  t.equal(world.deletes.at(-1), "/v1/nodes/s3");
  const guarded = await muster(["remove", "s1"]);
  t.equal(guarded.code, 1);
  t.match(guarded.stderr, /Refused: removing s1 would leave 1 healthy of 2 members, below quorum 2/);
  t.match(guarded.stderr, /healthyAfter: 1/);
});

t.test("remove --no-wait prints the operation; bad input is a usage error", async (t) => {
  const r = await muster(["remove", "s3", "--no-wait", "-o", "json"]);
  t.equal(r.code, 0, r.stderr);
  t.same(JSON.parse(r.stdout), {
    operation: { id: "op-abc123", type: "remove", node: "s3", state: "running" },
  });
  t.equal((await muster(["remove"])).code, 2);
  t.equal((await muster(["remove", "Bad_Name"])).code, 2);
});
