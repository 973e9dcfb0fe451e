import {
  type ClusterSpec,
  type Logger,
  MusterError,
  type NodeView,
  type PlanView,
  publicSpec,
} from "@muster/shared";
import { createRegistrationProbe, type RegistrationProbe } from "../adapters/registration-probe.ts";
import { openStore, type Store } from "../store/store.ts";
import { loadSpec, parseSpecInput, replaceSpec } from "./cluster/spec-rules.ts";
import { clusterView, eventsPage, nodeView } from "./cluster/views.ts";
import type { Ctx } from "./context.ts";
import { createEventWaiters } from "./events/event-waiters.ts";
import { createFrameHandler } from "./nodes/agent-frames.ts";
import { createEnrolment } from "./nodes/enrolment.ts";
import { plan, registrationAddress } from "./planner/planner.ts";
import { createSequencer, type PlanningOptions, type PlanningStats } from "./planner/sequencer.ts";
import { createRegistrationMonitor } from "./registration/monitor.ts";
import { createJoinTokens } from "./secrets/join-tokens.ts";
import { createVault } from "./secrets/vault.ts";
import type { CoordinatorService } from "./service.ts";

// createCoordinator wires the domain together: store, vault, join tokens, enrolment, the sequencer
// and its planner, the registration monitor, and the views. Transports call it through
// CoordinatorService (service-api.ts) only.

export interface CoordinatorOptions {
  stateDir: string;
  /** The spec from --config; omitted: the stored spec (or the defaults on first start). */
  spec?: ClusterSpec;
  logger: Logger;
  now?: () => number;
  /** Replaces the HTTPS probe of the registration address (tests). */
  registrationProbe?: RegistrationProbe;
  /** Told to agents in the welcome frame; default 15. */
  heartbeatSeconds?: number;
  /** Period of the planning pass that fires join timeouts; default 1000 ms. */
  tickMs?: number;
  /** Registration probe periods while a node waits on it / otherwise; default 3000 / 30000 ms. */
  registrationPollMs?: { waiting: number; idle: number };
  /** Spacing and size of planning passes (sequencer.ts). */
  planning?: PlanningOptions;
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

/** Repairs what a restart leaves behind: no link survives it. The lease survives on purpose. */
function afterRestart(store: Store, logger: Logger): void {
  store.tx(() => {
    store.nodes.markAllDisconnected();
    const lease = store.lease.get();
    const holder = lease ? store.nodes.get(lease.node) : null;
    if (lease && holder?.state !== "joining") {
      // Cannot happen through the transitions (lease and state change together); never keep a
      // lease nobody can end.
      logger.warn(
        { node: lease.node, state: holder?.state },
        "releasing a join lease held by a node that is not joining",
      );
      store.lease.release(lease.node);
    }
  });
}

export function createCoordinator(opts: CoordinatorOptions): Coordinator {
  const now = opts.now ?? Date.now;
  const logger = opts.logger;
  const store = openStore(opts.stateDir, now, (err) =>
    logger.error({ err: (err as Error).message }, "committing grouped changes failed"),
  );
  let spec: ClusterSpec;
  let vault: ReturnType<typeof createVault>;
  try {
    vault = createVault(opts.stateDir, store.meta);
    spec = loadSpec(store, vault, opts.spec);
    afterRestart(store, logger);
  } catch (err) {
    store.close();
    throw err;
  }

  const heartbeats = new Map<string, number>();
  const ctx: Ctx = {
    store,
    vault,
    logger,
    now,
    spec: () => spec,
    links: new Map(),
    schedule: () => sequencer.schedule(),
  };
  const probe = opts.registrationProbe ?? createRegistrationProbe({ token: vault.token, logger });
  const monitor = createRegistrationMonitor({
    probe,
    logger,
    onChange: () => ctx.schedule(),
    fastMs: opts.registrationPollMs?.waiting,
    slowMs: opts.registrationPollMs?.idle,
  });
  const sequencer = createSequencer(ctx, monitor, heartbeats, opts.planning);
  const handleFrame = createFrameHandler(ctx, heartbeats);
  const joinTokens = createJoinTokens(store, now);
  const enrolment = createEnrolment(ctx, joinTokens);
  const eventWaiters = createEventWaiters(store.events.latestSeq());
  store.events.onAppend(eventWaiters.notify);
  let closed = false;

  // The spec as shown: tokenSet says whether a cluster token is known (from the spec or captured).
  const getSpec = () =>
    publicSpec({ ...spec, rke2: { ...spec.rke2, ...(vault.token() !== null ? { token: "set" } : {}) } });
  const registrationHealth = () => monitor.health(registrationAddress(spec, store.nodes.initNode()));
  const mustGet = (name: string) => {
    const node = store.nodes.get(name);
    if (!node) throw new MusterError("NOT_FOUND", `node ${name} does not exist`);
    return node;
  };

  return {
    heartbeatSeconds: opts.heartbeatSeconds ?? 15,
    enrol: enrolment.enrol,
    authenticate: enrolment.authenticate,
    attach: sequencer.attach,
    detach: sequencer.detach,
    handleFrame,

    getCluster: () =>
      clusterView({
        spec,
        nodes: store.nodes.summaries(),
        lease: store.lease.get(),
        registration: registrationHealth(),
      }),
    getSpec,
    updateSpec(input) {
      spec = replaceSpec(store, vault, spec, parseSpecInput(input));
      logger.info({ cluster: spec.name }, "cluster spec updated");
      ctx.schedule();
      return getSpec();
    },
    listNodes: () => store.nodes.listings().map(nodeView),
    getNode: (name) => nodeView(mustGet(name)),
    retryNode(name): NodeView {
      const node = mustGet(name);
      if (node.state !== "failed" && node.state !== "check-failed")
        throw new MusterError(
          "CONFLICT",
          `node ${name} is ${node.state}; only failed or check-failed nodes can be retried`,
        );
      store.tx(() => {
        store.nodes.update(name, {
          state: "enrolled",
          message: null,
          phase: null,
          checks: null,
          checksRequestId: null,
          stateSince: now(),
        });
        const was = node.message ? ` (was ${node.state}: ${node.message})` : ` (was ${node.state})`;
        store.events.append("node.retry", name, `retry of ${node.role} ${name} requested${was}`);
      });
      logger.info({ node: name, was: node.state }, "node retry requested");
      ctx.schedule();
      return nodeView(mustGet(name));
    },
    getPlan: () => ({ steps: plan(sequencer.plannerInput()).steps }),
    listEvents: (after, limit) => eventsPage(store.events, after, limit),
    waitForEvents: (after, ms, signal) => eventWaiters.wait(after, ms, signal),
    createJoinToken: (body) => joinTokens.create(body.role, body.ttlSeconds),
    listJoinTokens: () => joinTokens.list(),
    verifyJoinToken: (token, machineId) => enrolment.verify(token, machineId),
    revokeJoinToken: (id) => joinTokens.revoke(id),

    tick: () => ({ steps: sequencer.tick().steps }),
    planningStats: sequencer.stats,
    async settle() {
      sequencer.tick(); // points the monitor at the current registration address
      await monitor.refresh();
      sequencer.tick();
    },
    start() {
      if (!closed) sequencer.start(opts.tickMs ?? 1000);
    },
    async close() {
      if (closed) return;
      closed = true;
      eventWaiters.close();
      sequencer.stop();
      monitor.stop();
      store.close();
    },
  };
}
