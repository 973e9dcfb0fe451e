import { CloseCodes } from "@muster/shared";
import { type Ctx, sendTo } from "./context.ts";
import { currentPlan, failJoin, releasePlan, requestChecks } from "./node-transitions.ts";
import {
  type NodeSnapshot,
  type PlannerAction,
  type PlannerOutput,
  plan,
  registrationAddressOf,
} from "./planner.ts";
import { REGISTRATION_WAIT } from "./planner-reasons.ts";
import type { RegistrationMonitor } from "./registration-monitor.ts";
import type { AgentLink } from "./service-api.ts";
import type { NodeRecord } from "./store/nodes-repo.ts";

// The thin driver around the pure planner: snapshot the store, plan, apply the actions. Any number of
// changes in one turn of the event loop cause one planning pass; a periodic timer adds passes so
// join timeouts fire without any event. Everything it decides is re-derivable from the database, so
// a restarted coordinator resumes where it stopped (the lease still held, plans re-sent on reconnect).

export function toSnapshot(n: NodeRecord): NodeSnapshot {
  return {
    name: n.name,
    role: n.role,
    init: n.init,
    state: n.state,
    address: n.address,
    connected: n.connected,
    seq: n.id,
    releasedAt: n.releasedAt,
    message: n.message,
    phase: n.phase,
    failedChecks: (n.checks ?? []).filter((c) => c.status === "fail").map((c) => c.name),
  };
}

export function createSequencer(ctx: Ctx, monitor: RegistrationMonitor, heartbeats: Map<string, number>) {
  const { store, logger } = ctx;
  let scheduled = false;
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;

  function plannerInput() {
    const spec = ctx.spec();
    const nodes = store.nodes.list();
    const registration = registrationAddressOf(spec, nodes);
    const lease = store.lease.get();
    return {
      spec,
      nodes: nodes.map(toSnapshot),
      lease: lease && { node: lease.node, since: lease.since },
      now: ctx.now(),
      registrationHealthy: monitor.health(registration) === "healthy",
      tokenKnown: ctx.vault.token() !== null,
    };
  }

  function apply(action: PlannerAction): void {
    try {
      if (action.type === "request-checks") requestChecks(ctx, action.node);
      else if (action.type === "release-plan") releasePlan(ctx, action.node, action.init);
      else failJoin(ctx, action.node, action.reason);
    } catch (err) {
      // One failed action (e.g. the lease constraint refusing a second server) must not stop the rest.
      logger.error(
        { node: action.node, action: action.type, err: (err as Error).message },
        "planner action failed",
      );
    }
  }

  /** Watch the registration address once the init server joined; urgently while a joiner waits on it. */
  function watchRegistration(input: ReturnType<typeof plannerInput>, out: PlannerOutput): void {
    const init = input.nodes.find((n) => n.init);
    if (init?.state !== "joined" || !input.tokenKnown) {
      monitor.watch(null, false);
      return;
    }
    const waiting = out.steps.some((s) => s.reason.startsWith(REGISTRATION_WAIT));
    monitor.watch(registrationAddressOf(input.spec, input.nodes), waiting);
  }

  /** One planning pass, synchronously. Returns what the planner saw and decided (tests use it). */
  function tick(): PlannerOutput {
    const input = plannerInput();
    const out = plan(input);
    for (const action of out.actions) apply(action);
    watchRegistration(input, out);
    return out;
  }

  function schedule(): void {
    if (scheduled || stopped) return;
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      if (stopped) return;
      try {
        tick();
      } catch (err) {
        logger.error({ err: (err as Error).message }, "planning pass failed");
      }
    });
  }

  /** Heartbeats are kept in memory and written in one transaction per timer pass (see store/db.ts). */
  function flushHeartbeats(): void {
    if (heartbeats.size === 0) return;
    const seen = [...heartbeats];
    heartbeats.clear();
    store.tx(() => {
      for (const [name, at] of seen) store.nodes.update(name, { lastSeen: at });
    });
  }

  function attach(name: string, link: AgentLink, appliedChecksum: string | null): void {
    const previous = ctx.links.get(name);
    ctx.links.set(name, link);
    if (previous && previous !== link) previous.close(CloseCodes.REPLACED, "replaced by a newer connection");
    const node = store.tx(() => {
      const n = store.nodes.get(name);
      if (!n) return null;
      // A checks request sent on an earlier link may be lost: ask again.
      const recheck = n.state === "checking";
      store.nodes.update(name, {
        connected: true,
        lastSeen: ctx.now(),
        ...(recheck ? { state: "enrolled", checksRequestId: null } : {}),
      });
      store.events.append("node.connected", name, `${name} connected`);
      return n;
    });
    if (!node) {
      ctx.links.delete(name);
      return;
    }
    logger.info({ node: name, state: node.state, appliedChecksum }, "agent attached");
    if (node.state === "joining") {
      // Re-send even if the agent applied it: its plan.done may have been lost; it skips done work.
      try {
        const p = currentPlan(ctx, node);
        if (p) sendTo(ctx, name, { type: "plan.apply", plan: p });
      } catch (err) {
        logger.error({ node: name, err: (err as Error).message }, "cannot re-send the plan");
      }
    }
    schedule();
  }

  function detach(name: string, link: AgentLink): void {
    // A replaced link closing late must not mark the node's newer connection as gone.
    if (ctx.links.get(name) !== link) return;
    ctx.links.delete(name);
    const known = store.tx(() => {
      if (!store.nodes.get(name)) return false;
      store.nodes.update(name, { connected: false, lastSeen: heartbeats.get(name) ?? ctx.now() });
      store.events.append("node.disconnected", name, `${name} disconnected`);
      return true;
    });
    heartbeats.delete(name);
    if (known) logger.info({ node: name }, "agent detached");
    schedule();
  }

  return {
    tick,
    schedule,
    attach,
    detach,
    plannerInput,
    start(tickMs: number): void {
      if (timer || stopped) return;
      timer = setInterval(() => {
        flushHeartbeats();
        schedule();
      }, tickMs);
      timer.unref();
      schedule();
    },
    stop(): void {
      stopped = true;
      if (timer) clearInterval(timer);
      timer = null;
      try {
        flushHeartbeats();
      } catch (err) {
        logger.warn({ err: (err as Error).message }, "could not record last heartbeats");
      }
    },
  };
}

export type Sequencer = ReturnType<typeof createSequencer>;
