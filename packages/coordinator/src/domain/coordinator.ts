import { type ClusterSpec, type Logger, OperationNotFound, type PlanView } from "@muster/shared";
import { openStore } from "../store/store.ts";
import { createChanges } from "./changes.ts";
import { createClusterSpec } from "./cluster/cluster-spec.ts";
import { createQueries } from "./cluster/queries.ts";
import { createEventWaiters } from "./events/event-waiters.ts";
import { createFrameHandler } from "./nodes/agent-frames.ts";
import { createEnrolment } from "./nodes/enrolment.ts";
import { createLinks } from "./nodes/links.ts";
import { createTransitions } from "./nodes/transitions/index.ts";
import { operationDefinitions } from "./operations/definitions.ts";
import { createOperationRunner } from "./operations/runner.ts";
import { operationView } from "./operations/views.ts";
import { createSequencer, type PlanningOptions, type PlanningStats } from "./planner/sequencer.ts";
import { createRegistrationMonitor } from "./registration/monitor.ts";
import type { RegistrationProbeFactory } from "./registration/probe.ts";
import { createVipWatch } from "./registration/vip-watch.ts";
import { agentTokenMode, initAgentToken } from "./secrets/agent-token.ts";
import { createJoinTokens } from "./secrets/join-tokens.ts";
import { createVault } from "./secrets/vault.ts";
import type { CoordinatorService } from "./service.ts";
import { createTaskDispatcher } from "./tasks/dispatcher.ts";

// createCoordinator wires the domain together, once: each module is handed the few things it names
// in its Deps interface. Transports call the result through CoordinatorService (service.ts) only.
// Nothing here decides anything.

export interface CoordinatorOptions {
  stateDir: string;
  /** The spec from --config; omitted: the stored spec (or the defaults on first start). */
  spec?: ClusterSpec;
  logger: Logger;
  now?: () => number;
  /** Probes the registration address (adapters/registration-probe.ts; tests pass a stand-in). */
  registrationProbe: RegistrationProbeFactory;
  /** Told to agents in the welcome frame; default 15. */
  heartbeatSeconds?: number;
  /** Period of the planning pass that fires join timeouts; default 1000 ms. */
  tickMs?: number;
  /** Registration probe periods while a node waits on it / otherwise; default 3000 / 30000 ms. */
  registrationPollMs?: { waiting: number; idle: number };
  /** Spacing and size of planning passes (sequencer.ts). */
  planning?: PlanningOptions;
  /** VIP observation periods while a joiner waits on it / otherwise; default 2000 / 15000 ms. */
  vipPollMs?: { fastMs?: number; slowMs?: number };
  /** sha256 of an air-gap image tarball the coordinator serves (kube-vip's), or null when it has none. */
  imageSha256?: (file: string) => string | null;
}

export interface Coordinator extends CoordinatorService {
  readonly heartbeatSeconds: number;
  /** One planning pass now, actions applied; returns the plan view it produced. */
  tick(): PlanView;
  /** Plans, probes the registration address now, and plans again (tests; a fresh `muster status`). */
  settle(): Promise<void>;
  /** Planning passes run and actions applied so far, and how long the last pass took. */
  planningStats(): PlanningStats;
}

/** Which node a MAC on the VIP interface belongs to, from the servers' facts. */
function macOwner(store: ReturnType<typeof openStore>, spec: () => ClusterSpec) {
  return (mac: string): string | null => {
    const iface = spec().vip?.interface;
    if (!iface) return null;
    for (const n of store.nodes.summaries()) {
      if (n.role !== "server") continue;
      const fact = store.nodes.get(n.name)?.facts.interfaces.find((i) => i.name === iface);
      if (fact?.mac.toLowerCase() === mac.toLowerCase()) return n.name;
    }
    return null;
  };
}

export function createCoordinator(opts: CoordinatorOptions): Coordinator {
  const now = opts.now ?? Date.now;
  const log = opts.logger;
  const store = openStore(opts.stateDir, now, (err) =>
    log.error({ err: (err as Error).message }, "committing grouped changes failed"),
  );
  const changes = createChanges();
  const links = createLinks({ store, log });
  let vault: ReturnType<typeof createVault>;
  let clusterSpec: ReturnType<typeof createClusterSpec>;
  let transitions: ReturnType<typeof createTransitions>;
  try {
    vault = createVault(opts.stateDir, store.meta);
    clusterSpec = createClusterSpec({ store, vault, changes, log }, opts.spec);
    initAgentToken({ store, vault, log });
    const planAgentToken = () => (agentTokenMode(store.meta) === "enforced" ? vault.agentToken() : null);
    transitions = createTransitions({
      store,
      vault,
      links,
      changes,
      log,
      now,
      spec: clusterSpec.current,
      planAgentToken,
      ...(opts.imageSha256 ? { imageSha256: opts.imageSha256 } : {}),
    });
    transitions.recoverAfterRestart();
  } catch (err) {
    store.close();
    throw err;
  }
  const spec = clusterSpec.current;

  const monitor = createRegistrationMonitor({
    probe: opts.registrationProbe(vault.token),
    logger: log,
    onChange: changes.notify,
    fastMs: opts.registrationPollMs?.waiting,
    slowMs: opts.registrationPollMs?.idle,
  });
  const tasks = createTaskDispatcher({ send: links.send, log: log.child({ component: "tasks" }) });
  const vipWatch = createVipWatch({
    tasks,
    logger: log.child({ component: "vip" }),
    onChange: changes.notify,
    nameOfMac: macOwner(store, spec),
    ...opts.vipPollMs,
  });
  const sequencer = createSequencer(
    { store, vault, monitor, vipWatch, transitions, changes, links, log, now, spec },
    opts.planning,
  );
  const operations = createOperationRunner({
    store,
    log: log.child({ component: "operations" }),
    now,
    definitions: operationDefinitions({ store, tasks, log, now, spec }),
    onChanged: changes.notify,
  });
  const handleFrame = createFrameHandler({
    store,
    vault,
    transitions,
    links,
    tasks,
    changes,
    log,
    now,
    spec,
  });
  const joinTokens = createJoinTokens({ store, now });
  const enrolment = createEnrolment({ store, joinTokens, transitions });
  const queries = createQueries({
    store,
    monitor,
    spec,
    agentTokenLegacy: () => agentTokenMode(store.meta) === "legacy",
  });
  const eventWaiters = createEventWaiters(store.events.latestSeq());
  store.events.onAppend(eventWaiters.notify);
  let closed = false;

  return {
    heartbeatSeconds: opts.heartbeatSeconds ?? 15,
    enrol: enrolment.enrol,
    authenticate: enrolment.authenticate,
    attach(node, link, appliedChecksum) {
      transitions.attach(node, link, appliedChecksum);
      tasks.attached(node); // tasks still waiting for this node's answer go out again
    },
    detach: transitions.detach,
    handleFrame,

    getCluster: queries.cluster,
    getSpec: clusterSpec.shown,
    updateSpec: clusterSpec.update,
    listNodes: queries.nodes,
    getNode: queries.node,
    retryNode(name) {
      transitions.retry(name);
      return queries.node(name);
    },
    getPlan: sequencer.preview,
    listEvents: queries.events,
    waitForEvents: (after, ms, signal) => eventWaiters.wait(after, ms, signal),
    listOperations: () => operations.list().map(operationView),
    getOperation(id) {
      const op = operations.get(id);
      if (!op) throw new OperationNotFound(id);
      return operationView(op);
    },
    createJoinToken: (body) => joinTokens.create(body.role, body.ttlSeconds),
    listJoinTokens: () => joinTokens.list(),
    verifyJoinToken: (token, machineId) => enrolment.verify(token, machineId),
    revokeJoinToken: (id) => joinTokens.revoke(id),
    getLease() {
      const lease = store.lease.current();
      if (!lease) return null;
      return lease.kind === "operation"
        ? { kind: "operation", node: lease.node, operationId: lease.operationId, since: lease.since }
        : { kind: "server-join", node: lease.node, since: lease.since };
    },
    recordAdminAction(message, node) {
      store.tx(() => store.events.append("admin.action", node ?? null, message));
    },

    tick: () => ({ steps: sequencer.tick().steps }),
    planningStats: sequencer.stats,
    async settle() {
      sequencer.tick(); // points the monitor at the current registration address
      await monitor.refresh();
      sequencer.tick();
    },
    start() {
      if (closed) return;
      sequencer.start(opts.tickMs ?? 1000);
      operations.start();
    },
    async close() {
      if (closed) return;
      closed = true;
      eventWaiters.close();
      sequencer.stop();
      await operations.close();
      tasks.closeAll("coordinator shutting down");
      monitor.stop();
      vipWatch.stop();
      store.close();
    },
  };
}
