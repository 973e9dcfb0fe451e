import {
  type ClusterSpec,
  type Logger,
  NoServerForSnapshot,
  NotLegacy,
  OperationNotFound,
  type PlanView,
  UpgradeRefused,
  upgradeRefusal,
} from "@muster/shared";
import { openStore } from "../store/store.ts";
import { createChanges } from "./changes.ts";
import { createClusterSpec } from "./cluster/cluster-spec.ts";
import { createOrphanAudit } from "./cluster/orphan-audit.ts";
import { createQueries } from "./cluster/queries.ts";
import { createEventWaiters } from "./events/event-waiters.ts";
import { fetchKubeconfig } from "./kubeconfig/kubeconfig.ts";
import { createFrameHandler } from "./nodes/agent-frames.ts";
import { createEnrolment } from "./nodes/enrolment.ts";
import { createLinks } from "./nodes/links.ts";
import { createLossWatch } from "./nodes/loss-watch.ts";
import { createTransitions } from "./nodes/transitions/index.ts";
import { agentTokenSteps } from "./operations/agent-token.ts";
import { listBackups, snapshotServer } from "./operations/backup.ts";
import { operationDefinitions } from "./operations/definitions.ts";
import { startRejoins } from "./operations/rejoin.ts";
import { createRemovals } from "./operations/removal-request.ts";
import { restoreServer, restoreSteps } from "./operations/restore.ts";
import type { RetryPolicy } from "./operations/runner.ts";
import { createOperationRunner } from "./operations/runner.ts";
import { artifactRefusal, clusterVersion, upgradeSteps } from "./operations/upgrade-plan.ts";
import { operationAccepted, operationView } from "./operations/views.ts";
import { createSequencer, type PlanningOptions, type PlanningStats } from "./planner/sequencer.ts";
import { macOwner } from "./registration/mac-owner.ts";
import { createRegistrationMonitor } from "./registration/monitor.ts";
import type { RegistrationProbeFactory } from "./registration/probe.ts";
import { createRegistrationCheck } from "./registration/registration-check.ts";
import { createVipWatch } from "./registration/vip-watch.ts";
import { agentTokenMode, initAgentToken } from "./secrets/agent-token.ts";
import { createJoinTokens } from "./secrets/join-tokens.ts";
import { migratePlanChecksums } from "./secrets/plan-checksums.ts";
import { createVault } from "./secrets/vault.ts";
import type { CoordinatorService } from "./service.ts";
import { createTaskDispatcher } from "./tasks/dispatcher.ts";

// createCoordinator wires the domain together, once: each module is handed the few things it names
// in its Deps interface. Transports call the result through CoordinatorService (service.ts) only.
// Nothing here decides anything.

/** How long the quorum guard waits for etcd's own view of its members (it probes each: ≤3 s). */
const ETCD_VIEW_MS = 10_000;

export interface CoordinatorOptions {
  stateDir: string;
  /** The spec from --config; omitted: the stored spec (or the defaults on first start). */
  spec?: ClusterSpec;
  logger: Logger;
  now?: () => number;
  /** Probes the registration address (adapters/registration-probe.ts; tests pass a stand-in). */
  registrationProbe: RegistrationProbeFactory;
  /** Told to agents in the welcome frame; default: a third of the spec's timeouts.heartbeat, less 1 s. */
  heartbeatSeconds?: number;
  /** Period of the node-loss check; default 1000 ms. */
  lossCheckMs?: number;
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
  /** How operation steps are retried after transient errors (tests shorten it). */
  operationRetry?: Partial<RetryPolicy>;
}

export interface Coordinator extends CoordinatorService {
  readonly heartbeatSeconds: number;
  /** One planning pass now, actions applied; returns the plan view it produced. */
  tick(): PlanView;
  /** One orphan audit now (tests; the timer runs one every 15 s). */
  audit(): Promise<void>;
  /** One node-loss check now (tests). */
  checkLoss(): Promise<void>;
  /** Starts the cleanup of removed nodes enrolled again (tests; the timer does it every second). */
  startRejoins(): void;
  /** Plans, probes the registration address now, and plans again (tests; a fresh `muster status`). */
  settle(): Promise<void>;
  /** Planning passes run and actions applied so far, and how long the last pass took. */
  planningStats(): PlanningStats;
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
    migratePlanChecksums({ store, vault, log });
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
    definitions: operationDefinitions({
      store,
      tasks,
      log,
      now,
      spec,
      disconnect: links.disconnect,
      vault,
      onAgentTokenEnforced: changes.notify,
      registrationCheck: createRegistrationCheck({
        spec,
        initNode: () => store.nodes.initNode(),
        monitor,
        vipWatch,
      }),
      recordRelease: clusterSpec.recordRelease,
    }),
    onChanged: changes.notify,
    ...(opts.operationRetry ? { retry: opts.operationRetry } : {}),
  });
  const audit = createOrphanAudit({ store, tasks, log: log.child({ component: "audit" }), now });
  let auditTimer: NodeJS.Timeout | undefined;
  const removals = createRemovals({
    store,
    runner: operations,
    now,
    orphans: () => audit.findings().orphans,
    etcdMembers: async (through) =>
      (await tasks.run(through, { kind: "etcd.status" }, { timeoutMs: ETCD_VIEW_MS })).members,
  });
  const lossWatch = createLossWatch({
    store,
    tasks,
    transitions,
    log: log.child({ component: "node-loss" }),
    now,
    spec,
  });
  let lossTimer: NodeJS.Timeout | undefined;
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
    recordRelease: clusterSpec.recordRelease,
  });
  const joinTokens = createJoinTokens({ store, now });
  const enrolment = createEnrolment({ store, joinTokens, transitions });
  const queries = createQueries({
    store,
    monitor,
    spec,
    audit: audit.findings,
    agentTokenLegacy: () => agentTokenMode(store.meta) === "legacy",
  });
  const eventWaiters = createEventWaiters(store.events.latestSeq());
  store.events.onAppend(eventWaiters.notify);
  let closed = false;

  return {
    // The hub drops a link after three missed heartbeats, checked every second: within the spec's
    // timeouts.heartbeat (docs/reference.md#node-loss).
    heartbeatSeconds: opts.heartbeatSeconds ?? Math.max(1, Math.floor((spec().timeouts.heartbeat - 1) / 3)),
    checkLoss: lossWatch.check,
    audit: audit.run,
    startRejoins: () => startRejoins({ store, log }, operations),
    enrol: enrolment.enrol,
    durable: () => store.db.whenDurable(),
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
    approveNode(name) {
      transitions.approve(name);
      return queries.node(name);
    },
    getPlan: sequencer.preview,
    getWhatIf: queries.whatIf,
    listEvents: queries.events,
    waitForEvents: (after, ms, signal) => eventWaiters.wait(after, ms, signal),
    startBackup(body, requestedBy) {
      const node = snapshotServer(queries.nodes());
      if (!node) throw new NoServerForSnapshot();
      const op = operations.submit({
        type: "backup",
        node: null,
        params: body,
        steps: [{ name: `snapshot on ${node}`, kind: "snapshot-save", args: { node, ...body } }],
        requestedBy: requestedBy ?? null,
      });
      return operationAccepted(op);
    },
    listBackups: () => listBackups(tasks, queries.nodes()),
    async startRestore(body, requestedBy) {
      const nodes = queries.nodes();
      const { backups } = await listBackups(tasks, nodes);
      const found = backups.filter((b) => b.name === body.snapshot);
      const reset = restoreServer(body.snapshot, found, nodes);
      const op = operations.submit({
        type: "restore",
        node: null,
        params: body,
        steps: restoreSteps(body.snapshot, reset, nodes),
        requestedBy: requestedBy ?? null,
      });
      return operationAccepted(op);
    },
    startUpgrade(body, requestedBy) {
      const from = clusterVersion(spec(), store.nodes.list());
      const refusal = upgradeRefusal(from, body.version) ?? artifactRefusal(spec(), body.version);
      if (refusal) throw new UpgradeRefused(refusal);
      const op = operations.submit({
        type: "upgrade",
        node: null,
        params: body,
        steps: upgradeSteps(body.version, queries.nodes(), {
          concurrency: spec().agents.concurrency,
          drain: body.drain,
        }),
        requestedBy: requestedBy ?? null,
      });
      return operationAccepted(op);
    },
    startAgentTokenMigration(requestedBy) {
      if (agentTokenMode(store.meta) === "enforced") throw new NotLegacy();
      const op = operations.submit({
        type: "agent-token",
        node: null,
        params: {},
        steps: agentTokenSteps(queries.nodes(), spec().agents.concurrency),
        requestedBy: requestedBy ?? null,
      });
      return operationAccepted(op);
    },
    getKubeconfig: () => fetchKubeconfig(tasks, queries.nodes(), queries.cluster().registrationAddress),
    listOperations: () => operations.list().map(operationView),
    removeNode: async (name, force, requestedBy) =>
      operationAccepted(await removals.remove(name, force, requestedBy ?? null)),
    getOperation(id) {
      const op = operations.get(id);
      if (!op) throw new OperationNotFound(id);
      return operationView(op);
    },
    createJoinToken: (body) =>
      joinTokens.create(body.role, body.ttlSeconds, { replace: body.replace, maxUses: body.maxUses }),
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
      lossTimer = setInterval(() => {
        void lossWatch.check();
        startRejoins({ store, log }, operations);
      }, opts.lossCheckMs ?? 1000);
      lossTimer.unref();
      auditTimer = setInterval(() => void audit.run(), 15_000);
      auditTimer.unref();
    },
    async close() {
      if (closed) return;
      closed = true;
      eventWaiters.close();
      sequencer.stop();
      clearInterval(lossTimer);
      clearInterval(auditTimer);
      await operations.close();
      tasks.closeAll("coordinator shutting down");
      monitor.stop();
      vipWatch.stop();
      store.close();
    },
  };
}
