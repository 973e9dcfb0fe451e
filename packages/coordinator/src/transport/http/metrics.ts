import {
  AdminTokenMissing,
  CLUSTER_PHASES,
  MetricsTokenInvalid,
  NODE_STATES,
  OPERATION_STATES,
  OPERATION_TYPES,
  secretMatchesHash,
} from "@muster/shared";
import type { FastifyInstance } from "fastify";
import { collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { CoordinatorService } from "../../domain/service.ts";
import { createJoinTimings } from "./join-timings.ts";
import { noQuery } from "./routes/deps.ts";

// GET /metrics in Prometheus' text format (docs/reference.md#metrics). Read with the admin token or
// the separate metrics token (<state-dir>/metrics-token), so a scraper never holds admin rights.
// Gauges are set from the service's views at scrape time; join timings come from the event log
// (join-timings.ts). Process metrics are prom-client's defaults, collected once per process (their
// collectors install observers that must not multiply with every app a test builds).

const BEARER = /^Bearer\s+(\S+)\s*$/i;
const JOIN_BUCKETS = [1, 2, 5, 10, 20, 30, 45, 60, 90, 120, 180, 300, 600, 1200, 3600];

let processRegistry: Registry | undefined;
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

export interface MetricsOptions {
  service: CoordinatorService;
  /** hex SHA-256 of each token allowed to scrape (the admin token's, the metrics token's). */
  tokenHashes: readonly string[];
  /** Open agent WebSocket connections, authenticated or not. */
  agentSockets: () => number;
  now?: () => number;
}

export function createMetrics(opts: MetricsOptions) {
  const { service } = opts;
  const now = opts.now ?? Date.now;
  const own = new Registry();
  const registers = [own];
  const nodes = new Gauge({
    name: "muster_nodes",
    help: "Nodes by state and role",
    labelNames: ["role", "state"] as const,
    registers,
  });
  const connected = new Gauge({
    name: "muster_agents_connected",
    help: "Nodes whose agent is connected and authenticated, by role",
    labelNames: ["role"] as const,
    registers,
  });
  const sockets = new Gauge({
    name: "muster_agent_sockets",
    help: "Open agent WebSocket connections, authenticated or not",
    registers,
  });
  const phase = new Gauge({
    name: "muster_cluster_phase",
    help: "1 for the cluster's current phase, 0 for the others",
    labelNames: ["phase"] as const,
    registers,
  });
  const servers = new Gauge({
    name: "muster_cluster_servers",
    help: "Servers: total, ready, quorum (voters needed) and fault tolerance (losses survivable)",
    labelNames: ["kind"] as const,
    registers,
  });
  const leaseHeld = new Gauge({
    name: "muster_lease_held",
    help: "1 while the control-plane lease is held, labelled with its holder (no series when free)",
    labelNames: ["kind", "holder"] as const,
    registers,
  });
  const leaseAge = new Gauge({
    name: "muster_lease_age_seconds",
    help: "How long the current holder has held the control-plane lease",
    labelNames: ["kind", "holder"] as const,
    registers,
  });
  const operations = new Gauge({
    name: "muster_operations",
    help: "Long-running operations by type and state (result once ended)",
    labelNames: ["type", "state"] as const,
    registers,
  });
  const joinDuration = new Histogram({
    name: "muster_node_join_duration_seconds",
    help: "Enrolment to joined (ready), by role, queueing included",
    labelNames: ["role"] as const,
    buckets: JOIN_BUCKETS,
    registers,
  });
  const releaseLatency = new Histogram({
    name: "muster_plan_result_seconds",
    help: "Plan release to the join's result (ready or failed), by role and result",
    labelNames: ["role", "result"] as const,
    buckets: JOIN_BUCKETS,
    registers,
  });
  const timings = createJoinTimings(service, {
    joined: (s) => joinDuration.observe({ role: s.role }, s.seconds),
    released: (s) => releaseLatency.observe({ role: s.role, result: s.result }, s.seconds),
  });
  const registry = Registry.merge([own, processMetrics()]);

  function refresh(): void {
    nodes.reset();
    connected.reset();
    for (const role of ["server", "agent"] as const) {
      connected.set({ role }, 0);
      for (const state of NODE_STATES) nodes.set({ role, state }, 0);
    }
    for (const n of service.listNodes()) {
      nodes.inc({ role: n.role, state: n.state });
      if (n.connected) connected.inc({ role: n.role });
    }
    sockets.set(opts.agentSockets());

    const cluster = service.getCluster();
    for (const p of CLUSTER_PHASES) phase.set({ phase: p }, p === cluster.phase ? 1 : 0);
    servers.set({ kind: "total" }, cluster.servers.total);
    servers.set({ kind: "ready" }, cluster.servers.ready);
    servers.set({ kind: "quorum" }, cluster.servers.quorum);
    servers.set({ kind: "fault_tolerance" }, cluster.servers.faultTolerance);

    leaseHeld.reset();
    leaseAge.reset();
    const lease = service.getLease();
    if (lease) {
      const labels = { kind: lease.kind, holder: lease.operationId ?? lease.node ?? "" };
      leaseHeld.set(labels, 1);
      leaseAge.set(labels, Math.max(0, (now() - lease.since) / 1000));
    }

    operations.reset();
    for (const type of OPERATION_TYPES)
      for (const state of OPERATION_STATES) operations.set({ type, state }, 0);
    for (const op of service.listOperations()) operations.inc({ type: op.type, state: op.state });

    timings.catchUp();
  }

  return {
    registry,
    /** The exposition text, every gauge current. */
    async render(): Promise<string> {
      refresh();
      return registry.metrics();
    },
    authorize(header: string | undefined): void {
      if (header === undefined || header === "") throw new AdminTokenMissing();
      const match = BEARER.exec(header);
      // Every hash is compared (constant time each), so timing tells nothing about which one matched.
      let ok = false;
      for (const hash of opts.tokenHashes) if (match && secretMatchesHash(match[1]!, hash)) ok = true;
      if (!ok) throw new MetricsTokenInvalid();
    },
  };
}

export function metricsRoutes(app: FastifyInstance, opts: MetricsOptions): void {
  const metrics = createMetrics(opts);
  app.get("/metrics", async (req, reply) => {
    try {
      metrics.authorize(req.headers.authorization);
    } catch (err) {
      reply.header("www-authenticate", 'Bearer realm="muster"');
      throw err;
    }
    noQuery(req);
    const text = await metrics.render();
    return reply.type(metrics.registry.contentType).send(text);
  });
}
