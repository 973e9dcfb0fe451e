import { EventEmitter } from "node:events";
import {
  type AgentConfig,
  type AgentFrame,
  AgentFrameSchema,
  type ChecksRunFrame,
  CloseCodes,
  type CoordinatorFrame,
  type InstallPrepareFrame,
  type Logger,
  type NodePlan,
} from "@muster/shared";
import { rke2Arch } from "../adapters/host-facts.ts";
import type { HostAdapters } from "../adapters/types.ts";
import { openResponders, type Responders } from "../checks/responders.ts";
import { applyPlan, type PlanOutcome } from "../phases/runner.ts";
import type { Phase } from "../phases/types.ts";
import { sleep } from "../phases/types.ts";
import { TASK_HANDLERS } from "../tasks/handlers/index.ts";
import { TaskRunner } from "../tasks/runner.ts";
import type { TaskHandlers } from "../tasks/types.ts";
import { type BackoffOptions, backoffDelay, DEFAULT_BACKOFF, refusedDelay } from "./backoff.ts";
import { enrolledConfig, saveAgentConfig } from "./config-file.ts";
import { agentChannelUrl } from "./pinned-socket.ts";
import { planProblem } from "./plan-check.ts";
import { PlanQueue } from "./plan-queue.ts";
import { prepareInstall } from "./prepare.ts";
import { answerChecks, buildFirstFrame } from "./requests.ts";
import { isRefusal, Session, type SessionEnd } from "./session.ts";

// The daemon: keeps one pinned session to the coordinator (reconnecting with jittered backoff),
// answers checks.run, applies plans one at a time, and reports. Frames for the coordinator that
// matter after a reconnect (phase, token.captured, plan.done) wait in an outbox while disconnected.
export interface AgentOptions {
  config: AgentConfig;
  configPath: string;
  host: HostAdapters;
  log: Logger;
  agentVersion: string;
  backoff?: BackoffOptions;
  /** wait-ready poll interval. */
  pollMs?: number;
  arch?: string;
  phases?: readonly Phase[];
  /** How long stop() lets a running phase finish before abandoning it (it resumes on restart). */
  stopGraceMs?: number;
  /** Day-two task handlers (default: every kind this agent knows, tasks/handlers). */
  taskHandlers?: TaskHandlers;
}

const KEPT_WHILE_OFFLINE = new Set<AgentFrame["type"]>([
  "phase",
  "plan.done",
  "token.captured",
  "task.result",
]);
const OUTBOX_LIMIT = 1000;

export class Agent extends EventEmitter {
  private config: AgentConfig;
  private readonly opts: AgentOptions;
  private readonly log: Logger;
  private session: Session | undefined;
  private readonly outbox: AgentFrame[] = [];
  private readonly abort = new AbortController();
  private readonly queue: PlanQueue;
  private readonly tasks: TaskRunner;
  /** The pre-stage install in progress (install.prepare), if any; plans wait for it. */
  private preparing: Promise<void> = Promise.resolve();
  /** Temporary listeners for peers' reachability probes, held between passed checks and the plan. */
  private responders: Promise<Responders | null> = Promise.resolve(null);
  private loop: Promise<void> | undefined;
  private attempt = 0;
  node: string | undefined;

  constructor(opts: AgentOptions) {
    super();
    this.opts = opts;
    this.config = opts.config;
    this.log = opts.log;
    this.node = opts.config.node;
    this.queue = new PlanQueue((plan) => this.runPlan(plan));
    this.tasks = new TaskRunner({
      host: opts.host,
      log: opts.log,
      signal: this.abort.signal,
      stateDir: opts.config.stateDir,
      handlers: opts.taskHandlers ?? TASK_HANDLERS,
      progress: (id, message) => this.send({ type: "task.progress", id, message }),
    });
  }

  get currentConfig(): AgentConfig {
    return this.config;
  }

  start(): void {
    this.loop ??= this.connectLoop();
  }

  /** SIGTERM: stop taking work, let the running phase end (or abort it at a safe point), close 1000. */
  async stop(): Promise<void> {
    if (this.abort.signal.aborted) return this.loop;
    this.log.info("stopping");
    this.abort.abort();
    await this.closeResponders();
    // Below systemd's TimeoutStopSec (30 s): the running phase gets time to reach a safe point.
    const grace = new Promise<void>((r) => setTimeout(r, this.opts.stopGraceMs ?? 20_000).unref());
    await Promise.race([this.queue.stop(), grace]);
    await this.session?.close("agent stopping");
    await this.loop;
  }

  private async connectLoop(): Promise<void> {
    const url = agentChannelUrl(this.config.coordinatorUrl);
    const backoff = this.opts.backoff ?? DEFAULT_BACKOFF;
    while (!this.abort.signal.aborted) {
      this.session = new Session(url, this.config.pin, this.handlers(), this.log);
      const end = await this.session.ended;
      this.session = undefined;
      this.emit("disconnected", end);
      if (this.abort.signal.aborted) break;
      const delay = this.retryDelay(end, backoff);
      try {
        await sleep(delay, this.abort.signal);
      } catch {
        break;
      }
    }
  }

  private retryDelay(end: SessionEnd, backoff: BackoffOptions): number {
    if (end.welcomed) this.attempt = 0;
    if (end.pinMismatch || isRefusal(end.code)) {
      const delay = refusedDelay(backoff);
      const refused = `coordinator refused this agent (close ${end.code}: ${end.reason || "no reason given"})`;
      const hint =
        end.code === CloseCodes.CONFLICT
          ? "fix the conflict on the coordinator (muster nodes), then the agent retries"
          : this.config.credential
            ? "the node credential was rejected"
            : "the join token was rejected (expired, revoked or used?)";
      const why = end.pinMismatch
        ? `${end.error ?? "certificate pin mismatch"}; check the pin in ${this.opts.configPath}`
        : `${refused}; ${hint}`;
      this.log.error({ code: end.code, retryInMs: delay }, why);
      return delay;
    }
    const delay = backoffDelay(this.attempt++, backoff);
    this.log.warn(
      { code: end.code, reason: end.reason || end.error, retryInMs: delay },
      "disconnected from the coordinator",
    );
    return delay;
  }

  private handlers() {
    return {
      firstFrame: () => this.firstFrame(),
      onFrame: (frame: CoordinatorFrame, session: Session) => this.onFrame(frame, session),
      onRefusedFrame: (reason: string) => {
        this.log.warn({ reason }, "refused a frame from the coordinator");
        this.emit("frame-refused", reason);
      },
    };
  }

  private firstFrame(): Promise<AgentFrame> {
    return buildFirstFrame(this.config, this.opts.host, this.opts.agentVersion);
  }

  private async onFrame(frame: CoordinatorFrame, session: Session): Promise<void> {
    switch (frame.type) {
      case "welcome":
        return this.onWelcome(frame, session);
      case "checks.run":
        return this.onChecksRun(frame);
      case "install.prepare":
        // Chained, so a plan arriving meanwhile waits for the installer instead of racing it.
        this.preparing = this.preparing.then(() => this.onPrepare(frame));
        return;
      case "plan.apply": {
        const what = this.queue.submit(frame.plan);
        this.log.info({ checksum: frame.plan.checksum, what }, "plan received");
        return;
      }
      case "task.run":
        // Not awaited: a long task (a drain) must not hold up frames behind it.
        void this.tasks.run(frame).then((reply) => this.send(reply));
        return;
      case "error":
        this.log.warn({ code: frame.code, message: frame.message }, "coordinator reported an error");
        this.emit("coordinator-error", frame);
    }
  }

  private async onWelcome(frame: Extract<CoordinatorFrame, { type: "welcome" }>, session: Session) {
    // Welcomed first (synchronously): the coordinator may send checks.run right behind welcome.
    this.node = frame.node;
    session.welcomed = true;
    this.attempt = 0;
    session.startHeartbeat(frame.heartbeatSeconds);
    for (const queued of this.outbox.splice(0)) session.sendRaw(queued);
    if (frame.credential) {
      const next = enrolledConfig(this.config, frame.node, frame.credential);
      await saveAgentConfig(this.opts.host.files, this.opts.configPath, next);
      this.config = next;
      this.log.info({ node: frame.node }, `enrolled; credential saved to ${this.opts.configPath}`);
    }
    this.emit("welcome", frame);
  }

  private async onChecksRun(frame: ChecksRunFrame): Promise<void> {
    // Our own listeners would make the ports check fail: closed while the checks run.
    await this.closeResponders();
    const reply = await answerChecks(frame, this.opts.host, this.config.address, this.log);
    const passed = reply.type === "checks.result" && reply.results.every((r) => r.status !== "fail");
    const address = this.config.address;
    if (passed && address) {
      this.responders = openResponders({ role: frame.role, host: address }).catch(() => null);
      const held = await this.responders;
      if (held)
        this.log.info({ tcp: held.tcp, udp: held.udp }, "reachability responders open until the plan");
    }
    this.send(reply);
  }

  private async closeResponders(): Promise<void> {
    const held = await this.responders;
    this.responders = Promise.resolve(null);
    await held?.close();
  }

  /** Sends now when welcomed; keeps plan reports for the next session otherwise. */
  send(frame: AgentFrame): void {
    const r = AgentFrameSchema.safeParse(frame);
    if (!r.success) {
      this.log.error(
        { type: frame.type, paths: r.error.issues.map((i) => i.path.join(".")) },
        "refusing to send an invalid frame",
      );
      return;
    }
    if (this.session?.welcomed && this.session.sendRaw(r.data)) return;
    if (!KEPT_WHILE_OFFLINE.has(frame.type)) return;
    this.outbox.push(r.data);
    if (this.outbox.length > OUTBOX_LIMIT) this.outbox.splice(0, this.outbox.length - OUTBOX_LIMIT);
  }

  private async onPrepare(frame: InstallPrepareFrame): Promise<void> {
    const reply = await prepareInstall(frame, {
      host: this.opts.host,
      stateDir: this.config.stateDir,
      log: this.log,
      signal: this.abort.signal,
      arch: this.opts.arch ?? rke2Arch(process.arch),
    });
    if (reply) this.send(reply);
  }

  private async runPlan(plan: NodePlan): Promise<void> {
    await this.preparing;
    const problem = planProblem(plan, this.node);
    if (problem) {
      this.log.warn({ checksum: plan.checksum, reason: problem }, "refused a plan");
      this.send({
        type: "plan.done",
        checksum: plan.checksum,
        ok: false,
        message: `plan refused: ${problem}`,
      });
      this.emit("plan", { ok: false, message: problem } satisfies PlanOutcome);
      return;
    }
    this.log.info({ checksum: plan.checksum, role: plan.role, init: plan.init }, "applying plan");
    // RKE2 takes the ports now.
    await this.closeResponders();
    const outcome = await applyPlan(
      {
        plan,
        host: this.opts.host,
        stateDir: this.config.stateDir,
        log: this.log,
        send: (f) => this.send(f),
        signal: this.abort.signal,
        arch: this.opts.arch ?? rke2Arch(process.arch),
        pollMs: this.opts.pollMs ?? 3000,
        coordinatorUrl: this.config.coordinatorUrl,
        scratch: {},
      },
      this.opts.phases,
    );
    this.log.info({ checksum: plan.checksum, outcome }, "plan finished");
    this.emit("plan", outcome);
  }
}
