import type { ClusterSpec, Logger, PlanView } from "@muster/shared";
import type { Durability } from "../../store/db.ts";
import type { Store } from "../../store/store.ts";
import type { Changes } from "../changes.ts";
import type { AgentLinks } from "../nodes/links.ts";
import { checksContext, type PassChecksContext, type Transitions } from "../nodes/transitions/index.ts";
import type { RegistrationMonitor } from "../registration/monitor.ts";
import type { VipTarget, VipWatch } from "../registration/vip-watch.ts";
import type { Vault } from "../secrets/vault.ts";
import { createPassPacer } from "./pass-pacer.ts";
import {
  type PlannerAction,
  type PlannerInput,
  type PlannerOutput,
  plan,
  registrationAddress,
} from "./planner.ts";
import { REGISTRATION_WAIT, VIP_ARP_WAIT } from "./reasons.ts";

// The thin driver around the pure planner: snapshot the nodes (from the store's in-memory summaries,
// never by reading the table), plan, apply the actions through the transitions. Changes ask for a
// pass (changes.ts, subscribed once here); pass-pacer.ts coalesces and spaces them. A periodic timer
// adds passes so join timeouts fire without any event, and writes the heartbeats seen. Everything it
// decides is re-derivable from the database, so a restarted coordinator resumes where it stopped
// (the lease still held, plans re-sent on reconnect).

export interface SequencerDeps {
  store: Pick<Store, "tx"> & {
    nodes: Pick<Store["nodes"], "summaries" | "initNode">;
    lease: Pick<Store["lease"], "get" | "current">;
    operations: Pick<Store["operations"], "get">;
  };
  vault: Pick<Vault, "token" | "s3SecretKey">;
  monitor: Pick<RegistrationMonitor, "health" | "watch">;
  /** Peers' view of the VIP (absent: joiners are not gated on ARP, e.g. in unit tests). */
  vipWatch?: Pick<VipWatch, "verdict" | "watch">;
  transitions: Pick<Transitions, "requestChecks" | "releasePlan" | "failJoin"> &
    Partial<Pick<Transitions, "checksContext">>;
  changes: Pick<Changes, "subscribe">;
  links: Pick<AgentLinks, "flushHeartbeats">;
  log: Logger;
  now(): number;
  spec(): ClusterSpec;
}

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

export function createSequencer(deps: SequencerDeps, opts: PlanningOptions = {}) {
  const { store, monitor, transitions, log } = deps;
  const maxActions = opts.maxActionsPerPass ?? 256;
  const pacer = createPassPacer(run, opts.minIntervalMs ?? 10);
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;
  const stats: PlanningStats = { passes: 0, actions: 0, lastPassMs: 0 };

  /** The VIP muster runs, when it is the registration address; else null (nothing to verify). */
  function vipAddress(spec: ClusterSpec): string | null {
    const vip = spec.vip;
    if (!vip || !deps.vipWatch) return null;
    return registrationAddress(spec, store.nodes.initNode()) === vip.address ? vip.address : null;
  }

  /** Connected servers first (peers of the holder), then connected agents when too few servers are. */
  function vipTarget(spec: ClusterSpec, nodes: PlannerInput["nodes"]): VipTarget | null {
    const address = vipAddress(spec);
    if (address === null || !spec.vip) return null;
    const servers = nodes.filter((n) => n.connected && n.role === "server").map((n) => n.name);
    const agents = servers.length >= 2 ? [] : nodes.filter((n) => n.connected && n.role === "agent");
    return {
      address,
      interface: spec.vip.interface,
      observers: [...servers, ...agents.slice(0, 2).map((n) => n.name)],
    };
  }

  function plannerInput(): PlannerInput {
    const spec = deps.spec();
    const vip = vipAddress(spec);
    const lease = store.lease.current();
    const op = lease?.kind === "operation" ? store.operations.get(lease.operationId) : null;
    return {
      spec,
      nodes: store.nodes.summaries(),
      lease: lease?.kind === "server-join" ? { node: lease.node, since: lease.since } : null,
      operation:
        lease?.kind === "operation"
          ? { id: lease.operationId, type: op?.type ?? "operation", node: lease.node, since: lease.since }
          : null,
      now: deps.now(),
      registrationHealthy: monitor.health(registrationAddress(spec, store.nodes.initNode())) === "healthy",
      vip: vip === null ? null : (deps.vipWatch?.verdict(vip) ?? null),
      tokenKnown: deps.vault.token() !== null,
    };
  }

  function apply(action: PlannerAction, checks: () => PassChecksContext): void {
    try {
      if (action.type === "request-checks") transitions.requestChecks(action.node, checks());
      else if (action.type === "release-plan") transitions.releasePlan(action.node, action.init);
      else transitions.failJoin(action.node, action.reason);
    } catch (err) {
      // One failed action (e.g. the lease constraint refusing a second server) must not stop the
      // rest: its own transaction is a savepoint of the pass's, rolled back alone.
      log.error(
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
      checks ??=
        transitions.checksContext?.(input.spec, input.nodes, input.registrationHealthy) ??
        checksContext(input.spec, input.nodes, undefined, input.registrationHealthy);
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
      deps.vipWatch?.watch(null, false);
      return;
    }
    const waiting = out.steps.some((s) => s.reason.startsWith(REGISTRATION_WAIT));
    monitor.watch(registrationAddress(input.spec, init), waiting);
    const vipWaiting = out.steps.some(
      (s) => s.reason.startsWith(VIP_ARP_WAIT) || s.reason.startsWith(REGISTRATION_WAIT),
    );
    deps.vipWatch?.watch(vipTarget(input.spec, input.nodes), vipWaiting);
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
      log.error({ err: (err as Error).message }, "planning pass failed");
    }
  }

  function schedule(): void {
    if (!stopped) pacer.request();
  }

  deps.changes.subscribe(schedule);

  return {
    tick,
    /** What a pass would decide now, without applying it (GET /v1/plan). */
    preview: (): PlanView => ({ steps: plan(plannerInput()).steps }),
    stats: (): PlanningStats => ({ ...stats }),
    start(tickMs: number): void {
      if (timer || stopped) return;
      timer = setInterval(() => {
        deps.links.flushHeartbeats();
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
        deps.links.flushHeartbeats();
      } catch (err) {
        log.warn({ err: (err as Error).message }, "could not record last heartbeats");
      }
    },
  };
}

export type Sequencer = ReturnType<typeof createSequencer>;
