import { CloseCodes } from "@muster/shared";
import type { Durability } from "../../store/db.ts";
import { type Ctx, sendTo } from "../context.ts";
import {
  checksContext,
  currentPlan,
  failJoin,
  type PassChecksContext,
  releasePlan,
  requestChecks,
  sendPrepare,
} from "../nodes/transitions.ts";
import type { RegistrationMonitor } from "../registration/monitor.ts";
import type { AgentLink } from "../service.ts";
import { createPassPacer } from "./pass-pacer.ts";
import {
  type PlannerAction,
  type PlannerInput,
  type PlannerOutput,
  plan,
  registrationAddress,
} from "./planner.ts";
import { REGISTRATION_WAIT } from "./reasons.ts";

// The thin driver around the pure planner: snapshot the nodes (from the store's in-memory summaries,
// never by reading the table), plan, apply the actions. Changes ask for a pass with schedule();
// pass-pacer.ts coalesces and spaces them. A periodic timer adds passes so join timeouts fire
// without any event. Everything it decides is re-derivable from the database, so a
// restarted coordinator resumes where it stopped (the lease still held, plans re-sent on reconnect).

export interface PlanningOptions {
  /** Least time between the end of a pass and the start of the next scheduled one; default 10 ms. */
  minIntervalMs?: number;
  /** Actions applied per pass; the rest wait for the next pass, so the event loop is never held long. Default 256. */
  maxActionsPerPass?: number;
}

export interface PlanningStats {
  passes: number;
  actions: number;
  lastPassMs: number;
}

export function createSequencer(
  ctx: Ctx,
  monitor: RegistrationMonitor,
  heartbeats: Map<string, number>,
  opts: PlanningOptions = {},
) {
  const { store, logger } = ctx;
  const maxActions = opts.maxActionsPerPass ?? 256;
  const pacer = createPassPacer(run, opts.minIntervalMs ?? 10);
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;
  const stats: PlanningStats = { passes: 0, actions: 0, lastPassMs: 0 };

  function plannerInput(): PlannerInput {
    const spec = ctx.spec();
    const lease = store.lease.get();
    return {
      spec,
      nodes: store.nodes.summaries(),
      lease: lease && { node: lease.node, since: lease.since },
      now: ctx.now(),
      registrationHealthy: monitor.health(registrationAddress(spec, store.nodes.initNode())) === "healthy",
      tokenKnown: ctx.vault.token() !== null,
    };
  }

  function apply(action: PlannerAction, checks: () => PassChecksContext): void {
    try {
      if (action.type === "request-checks") requestChecks(ctx, action.node, checks());
      else if (action.type === "release-plan") releasePlan(ctx, action.node, action.init);
      else failJoin(ctx, action.node, action.reason);
    } catch (err) {
      // One failed action (e.g. the lease constraint refusing a second server) must not stop the
      // rest: its own transaction is a savepoint of the pass's, rolled back alone.
      logger.error(
        { node: action.node, action: action.type, err: (err as Error).message },
        "planner action failed",
      );
    }
  }

  /**
   * The pass's actions in one transaction (one commit, frames sent after it). Durable when it
   * releases a plan or fails a join; relaxed when it only asks nodes for checks (store/db.ts).
   */
  function applyAll(input: PlannerInput, actions: readonly PlannerAction[], durable: Durability): void {
    if (actions.length === 0) return;
    let checks: PassChecksContext | null = null;
    const checksOnce = () => {
      checks ??= checksContext(input.spec, input.nodes);
      return checks;
    };
    const durability = actions.every((a) => a.type === "request-checks") ? "relaxed" : durable;
    store.tx(() => {
      for (const action of actions) apply(action, checksOnce);
    }, durability);
  }

  /** Watch the registration address once the init server joined; urgently while a joiner waits on it. */
  function watchRegistration(input: PlannerInput, out: PlannerOutput): void {
    const init = store.nodes.initNode();
    if (init?.state !== "joined" || !input.tokenKnown) {
      monitor.watch(null, false);
      return;
    }
    const waiting = out.steps.some((s) => s.reason.startsWith(REGISTRATION_WAIT));
    monitor.watch(registrationAddress(input.spec, init), waiting);
  }

  /**
   * One planning pass. Returns what the planner saw and decided (tests use it). `durable`: "full"
   * commits (and sends the frames) before returning; the scheduled passes use "grouped", sharing the
   * fsync with the join results of the same turn of the event loop, the frames following it.
   */
  function tick(durable: Durability = "full"): PlannerOutput {
    const started = performance.now();
    const input = plannerInput();
    const out = plan(input);
    // A prefix of the actions is always safe to apply: each was decided as if those before it were.
    const actions = out.actions.length > maxActions ? out.actions.slice(0, maxActions) : out.actions;
    try {
      applyAll(input, actions, durable);
      watchRegistration(input, out);
    } finally {
      const ended = performance.now();
      stats.passes += 1;
      stats.actions += actions.length;
      stats.lastPassMs = ended - started;
      pacer.passed(stats.lastPassMs);
      if (actions.length < out.actions.length) pacer.request(true);
    }
    return out;
  }

  function run(): void {
    try {
      tick("grouped");
    } catch (err) {
      logger.error({ err: (err as Error).message }, "planning pass failed");
    }
  }

  function schedule(): void {
    if (!stopped) pacer.request();
  }

  /** Heartbeats are kept in memory and written in one transaction per timer pass (see store/db.ts). */
  function flushHeartbeats(): void {
    if (heartbeats.size === 0) return;
    const seen = [...heartbeats];
    heartbeats.clear();
    store.tx(() => {
      for (const [name, at] of seen) store.nodes.update(name, { lastSeen: at });
    }, "relaxed");
  }

  function attach(name: string, link: AgentLink, appliedChecksum: string | null): void {
    const previous = ctx.links.get(name);
    ctx.links.set(name, link);
    if (previous && previous !== link) previous.close(CloseCodes.REPLACED, "replaced by a newer connection");
    // Relaxed: after a restart every node is disconnected and a checks request is asked again.
    const node = store.tx(() => {
      const n = store.nodes.summary(name);
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
    }, "relaxed");
    if (!node) {
      ctx.links.delete(name);
      return;
    }
    logger.info({ node: name, state: node.state, appliedChecksum }, "agent attached");
    if (node.state === "waiting") sendPrepare(ctx, name);
    if (node.state === "joining") {
      // Re-send even if the agent applied it: its plan.done may have been lost; it skips done work.
      // After the commit: the release may still be in an open group (store/db.ts).
      try {
        const record = store.nodes.get(name);
        const p = record && currentPlan(ctx, record);
        if (p) store.afterCommit(() => sendTo(ctx, name, { type: "plan.apply", plan: p }));
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
      if (!store.nodes.summary(name)) return false;
      store.nodes.update(name, { connected: false, lastSeen: heartbeats.get(name) ?? ctx.now() });
      store.events.append("node.disconnected", name, `${name} disconnected`);
      return true;
    }, "relaxed");
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
    stats: (): PlanningStats => ({ ...stats }),
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
      pacer.stop();
      try {
        flushHeartbeats();
      } catch (err) {
        logger.warn({ err: (err as Error).message }, "could not record last heartbeats");
      }
    },
  };
}

export type Sequencer = ReturnType<typeof createSequencer>;
