import Fastify from "fastify";
import type { TestTls } from "../../coordinator/transport/delivery/helpers/tls-cert.ts";

// A tiny stand-in for the coordinator's REST API on a real HTTPS port, answering canned data in the
// contract's shapes and recording what the CLI sent.

export const ADMIN_TOKEN = "admin-token-0123456789";

export const CLUSTER = {
  name: "prod",
  phase: "forming",
  registrationAddress: "10.0.0.100",
  servers: { total: 3, ready: 2, quorum: 2, faultTolerance: 0 },
  agents: { total: 2, ready: 1 },
  joinInFlight: { node: "s3", since: "2030-01-01T00:00:00.000Z" },
  warnings: ["3 servers but only 2 ready"],
};

export const NODES = [
  {
    name: "s1",
    role: "server",
    init: true,
    state: "joined",
    address: "10.0.0.11",
    connected: true,
    enrolledAt: "2030-01-01T00:00:00.000Z",
    joinedAt: "2030-01-01T00:01:00.000Z",
  },
  {
    name: "a1",
    role: "agent",
    init: false,
    state: "check-failed",
    address: "10.0.0.21",
    connected: true,
    message: "swap is on: run swapoff -a",
    enrolledAt: "2030-01-01T00:00:00.000Z",
  },
];

export const EVENTS = [1, 2, 3].map((seq) => ({
  seq,
  time: `2030-01-01T00:0${seq}:00.000Z`,
  type: "node.enrolled",
  node: `n${seq}`,
  message: `n${seq} enrolled`,
}));

export interface Recorded {
  method: string;
  url: string;
  auth: string | undefined;
  body: unknown;
}

export async function startFakeApi(tls: TestTls) {
  const seen: Recorded[] = [];
  const state = { brokenCluster: false, backupBodies: [] as unknown[] };
  const app = Fastify({ https: { cert: tls.cert, key: tls.key } });
  app.addHook("preHandler", async (req, reply) => {
    seen.push({ method: req.method, url: req.url, auth: req.headers.authorization, body: req.body });
    if (req.headers.authorization !== `Bearer ${ADMIN_TOKEN}`) {
      return reply
        .code(401)
        .send({ error: { code: "UNAUTHORIZED", message: "Missing or invalid credentials" } });
    }
  });
  app.get("/v1/cluster", async () => (state.brokenCluster ? { ...CLUSTER, phase: "exploded" } : CLUSTER));
  app.get("/v1/nodes", async () => ({ nodes: NODES }));
  app.post<{ Body: { name?: string } }>("/v1/backups", async (req, reply) => {
    state.backupBodies.push(req.body);
    reply.code(202);
    return { operation: { id: "op-backup-000001", type: "backup", node: null, state: "running" } };
  });
  app.post<{ Body: { version?: string } }>("/v1/upgrades", async (req, reply) => {
    state.backupBodies.push(req.body);
    if (req.body.version === "v1.32.0+rke2r1")
      return reply.code(400).send({
        error: {
          code: "VALIDATION_FAILED",
          message: "v1.32.0+rke2r1 is older than the cluster's v1.33.5+rke2r1: a downgrade is not supported",
        },
      });
    reply.code(202);
    return { operation: { id: "op-upgrade-000001", type: "upgrade", node: null, state: "running" } };
  });
  app.post<{ Body: { snapshot?: string } }>("/v1/restores", async (req, reply) => {
    state.backupBodies.push(req.body);
    reply.code(202);
    return { operation: { id: "op-restore-000001", type: "restore", node: null, state: "running" } };
  });
  // The restore operation: running with its first steps, then succeeded (or failed for a snapshot
  // named like "broken-...") on the next poll.
  let restorePolls = 0;
  app.get<{ Params: { id: string } }>("/v1/operations/:id", async (req, reply) => {
    if (req.params.id !== "op-restore-000001")
      return reply.code(404).send({ error: { code: "NOT_FOUND", message: "no such operation" } });
    const body = state.backupBodies.at(-1) as { snapshot?: string } | undefined;
    const broken = body?.snapshot?.startsWith("broken-") === true;
    const done = ++restorePolls % 2 === 0;
    const step = (name: string, st: string, message?: string) => ({
      name,
      state: st,
      ...(message ? { message } : {}),
    });
    return {
      id: "op-restore-000001",
      type: "restore",
      node: null,
      state: done ? (broken ? "failed" : "succeeded") : "running",
      ...(done && broken ? { reason: "reset etcd on cp-1: snapshot file missing" } : {}),
      steps: [
        step("stop rke2-server on cp-1", "succeeded", "rke2-server stopped (killall)"),
        done
          ? step(
              "reset etcd on cp-1",
              broken ? "failed" : "succeeded",
              broken ? "snapshot file missing" : "membership reset",
            )
          : step("reset etcd on cp-1", "running"),
      ],
      createdAt: "2030-01-01T00:00:00.000Z",
    };
  });
  app.get("/v1/kubeconfig", async () => ({
    kubeconfig:
      "apiVersion: v1\nclusters:\n- cluster:\n    server: https://10.9.0.100:6443\n  name: default\nkind: Config\n",
  }));
  app.get("/v1/backups", async () => ({
    backups: [
      {
        name: "nightly-cp-1-1796183600",
        node: "cp-1",
        size: 70000,
        createdAt: "2026-12-02T04:33:20Z",
        location: "local",
      },
    ],
    warnings: ["cp-2: its agent is not connected"],
  }));
  app.get("/v1/plan", async () => ({
    steps: [
      { node: "s3", role: "server", status: "running", reason: "joining: waiting for etcd to promote it" },
    ],
  }));
  app.post("/v1/join-tokens", async (req, reply) => {
    const body = req.body as { role: string };
    const token = "abcdef.0123456789abcdef";
    return reply.code(201).send({
      id: "abcdef",
      token,
      role: body.role,
      expiresAt: "2030-01-02T00:00:00.000Z",
      command: `curl -fsSL -k --pinnedpubkey '${tls.pin}' https://127.0.0.1:9443/v1/bootstrap.sh | sudo sh -s - --token ${token}`,
    });
  });
  app.post<{ Params: { name: string } }>("/v1/nodes/:name/retry", async (req, reply) => {
    if (req.params.name !== "a1") {
      return reply
        .code(404)
        .send({ error: { code: "NOT_FOUND", message: `No node named ${req.params.name}` } });
    }
    return { ...NODES[1], state: "checking" };
  });
  app.get<{ Querystring: { after?: string } }>("/v1/events", async (req) => {
    const after = Number(req.query.after ?? 0);
    const events = EVENTS.filter((e) => e.seq > after).slice(0, 2); // two per page, to exercise follow
    return { events, next: events.at(-1)?.seq ?? after };
  });
  await app.listen({ host: "127.0.0.1", port: 0 });
  const address = app.server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return {
    url: `https://127.0.0.1:${address.port}`,
    seen,
    state,
    close: () => app.close(),
  };
}
