import { randomBytes } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { AgentLink, CoordinatorService } from "@muster/coordinator/domain/service";
import { loadOrCreateTls } from "@muster/coordinator/server/tls";
import { buildApp } from "@muster/coordinator/transport/http/app";
import {
  type AgentFrame,
  type ClusterView,
  createLogger,
  defaultSpec,
  type EventType,
  hashSecret,
  MusterError,
  type MusterEvent,
  publicSpec,
  sealPlan,
} from "@muster/shared";

// `bench:coordinator -- --domain stub`: the real transports (TLS, fastify app, agent hub) over an
// O(1)-per-frame in-memory stand-in for the domain, so the bench can tell the cost of the transport
// layer apart from the store/planner's. It implements only what the fleet exercises: enrol, checks,
// plan release on passing checks, plan.done, the cluster view and events. Not a coordinator.

const { values: args } = parseArgs({ options: { "state-dir": { type: "string" } } });
const stateDir = args["state-dir"]!;

interface StubNode {
  role: "server" | "agent";
  state: "checking" | "joining" | "joined";
  link: AgentLink | null;
  checksum: string | null;
}

const nodes = new Map<string, StubNode>();
const tokens = new Map<string, "server" | "agent">();
const events: MusterEvent[] = [];
let serversReady = 0;
let agentsReady = 0;
const spec = defaultSpec();

function event(type: EventType, node: string): void {
  events.push({
    seq: events.length + 1,
    time: new Date().toISOString(),
    type,
    node,
    message: `${node} ${type}`,
  });
}

function release(name: string, node: StubNode): void {
  const plan = sealPlan({
    node: name,
    role: node.role,
    init: node.role === "server",
    install: { installerUrl: spec.rke2.installerUrl, type: node.role },
    config: {},
    manifests: [],
    service: node.role === "server" ? "rke2-server" : "rke2-agent",
    readiness: { registrationAddress: null, timeoutSeconds: 600 },
    captureToken: false,
  });
  node.state = "joining";
  node.checksum = plan.checksum;
  event("node.join.started", name);
  node.link?.send({ type: "plan.apply", plan });
}

const service: CoordinatorService = {
  enrol(frame) {
    const role = tokens.get(frame.joinToken);
    if (!role) throw new MusterError("UNAUTHORIZED", "join token is not valid");
    const name = frame.nodeName ?? frame.facts.hostname;
    nodes.set(name, { role, state: "checking", link: null, checksum: null });
    event("node.enrolled", name);
    return { node: name, credential: randomBytes(32).toString("base64url") };
  },
  durable: () => Promise.resolve(), // no store: nothing to wait for
  authenticate() {
    throw new MusterError("UNAUTHORIZED", "the stub does not keep credentials");
  },
  attach(name, link) {
    const node = nodes.get(name)!;
    node.link = link;
    const minimums = { cpus: 1, memoryGiB: 1, diskGiB: 1 };
    link.send({
      type: "checks.run",
      requestId: name,
      role: node.role,
      minimums,
      ignore: [],
      peers: [],
      vipInUse: false,
    });
  },
  detach(name, link) {
    const node = nodes.get(name);
    if (node?.link === link) node.link = null;
  },
  handleFrame(name, frame: AgentFrame) {
    const node = nodes.get(name)!;
    if (frame.type === "checks.result" && node.state === "checking") release(name, node);
    if (frame.type === "plan.done" && frame.checksum === node.checksum && node.state === "joining") {
      node.state = "joined";
      if (node.role === "server") serversReady += 1;
      else agentsReady += 1;
      event("node.join.succeeded", name);
    }
  },
  getCluster(): ClusterView {
    return {
      name: "stub",
      phase: serversReady > 0 ? "ready" : nodes.size === 0 ? "empty" : "initializing",
      registrationAddress: null,
      servers: { total: serversReady, ready: serversReady, quorum: 1, faultTolerance: 0 },
      agents: { total: agentsReady, ready: agentsReady },
      joinInFlight: null,
      warnings: [],
    };
  },
  getSpec: () => publicSpec(spec),
  updateSpec: () => publicSpec(spec),
  listNodes: () => [],
  getNode: (name) => {
    throw new MusterError("NOT_FOUND", `node ${name} does not exist`);
  },
  retryNode: (name) => {
    throw new MusterError("NOT_FOUND", `node ${name} does not exist`);
  },
  approveNode: (name) => {
    throw new MusterError("NOT_FOUND", `node ${name} does not exist`);
  },
  getPlan: () => ({ steps: [] }),
  getWhatIf: () => ({ servers: [], warnings: [] }),
  removeNode: () => {
    throw new Error("not in the stub");
  },
  listEvents: (after, limit) => {
    const page = events.slice(after, after + limit);
    return { events: page, next: page.at(-1)?.seq ?? after };
  },
  // The bench never long-polls: answer at once.
  waitForEvents: async (after) => (events.length > after ? "event" : "timeout"),
  listOperations: () => [],
  startBackup: () => {
    throw new Error("the bench stub takes no snapshots");
  },
  listBackups: async () => ({ backups: [] }),
  startRestore: async () => {
    throw new Error("the bench stub restores nothing");
  },
  startUpgrade: () => {
    throw new Error("the bench stub upgrades nothing");
  },
  startAgentTokenMigration: () => {
    throw new Error("the bench stub migrates nothing");
  },
  getKubeconfig: async () => {
    throw new Error("the bench stub has no servers");
  },
  getLease: () => null,
  recordAdminAction: () => {},
  getOperation: (id) => {
    throw new MusterError("NOT_FOUND", `operation ${id} does not exist`);
  },
  createJoinToken(body) {
    const id = randomBytes(3).toString("hex");
    const token = `${id}.${randomBytes(8).toString("hex")}`;
    tokens.set(token, body.role);
    return { id, token, role: body.role, expiresAt: new Date(Date.now() + 86_400_000).toISOString() };
  },
  listJoinTokens: () => [],
  verifyJoinToken: () => {
    throw new MusterError("UNAUTHORIZED", "not in the stub");
  },
  revokeJoinToken: () => {},
  start: () => {},
  close: async () => {},
};

await mkdir(stateDir, { recursive: true, mode: 0o700 });
const admin = randomBytes(32).toString("base64url");
await writeFile(join(stateDir, "admin-token"), admin, { mode: 0o600 });
const tls = await loadOrCreateTls({ stateDir, hosts: ["127.0.0.1"] });
const logger = createLogger({ name: "muster-coordinator-stub" });
let url = "";
const app = await buildApp({
  service,
  logger,
  publicUrl: () => url,
  pin: tls.pin,
  adminTokenHash: hashSecret(admin),
  https: { cert: tls.cert, key: tls.key },
});
await app.listen({ host: "127.0.0.1", port: 0 });
url = `https://127.0.0.1:${(app.server.address() as { port: number }).port}`;
logger.info({ url, pin: tls.pin }, "stub coordinator serving");
process.once("SIGTERM", () => void app.close().then(() => process.exit(0)));
