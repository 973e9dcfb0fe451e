import { Writable } from "node:stream";
import {
  type Coordinator,
  type CoordinatorOptions,
  createCoordinator,
} from "@muster/coordinator/domain/coordinator";
import type { AgentLink } from "@muster/coordinator/domain/service";
import {
  type AgentFrame,
  type CheckResult,
  type CoordinatorFrame,
  createLogger,
  type Logger,
  type NodeFacts,
  type NodePlan,
  type Role,
} from "@muster/shared";
import type { Test } from "tap";

// Drives the coordinator's domain directly (no transport): fake agent links, an injected clock and
// an injected registration probe, planning passes run on demand with tick().

export const T0 = Date.parse("2025-01-01T00:00:00.000Z");
export const CLUSTER_TOKEN = `K10${"ab".repeat(32)}::server:${"5ec7e7".repeat(5)}ff`;

export function captureLogger(): { logger: Logger; logs: string[] } {
  const logs: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      logs.push(...String(chunk).split("\n").filter(Boolean));
      done();
    },
  });
  return { logger: createLogger({ name: "test", level: "debug", destination }), logs };
}

/** Facts of host `n` (machine id and address derived from n), overridable. */
export function nodeFacts(hostname: string, n: number, over: Partial<NodeFacts> = {}): NodeFacts {
  const ip = `10.0.0.${10 + n}`;
  return {
    hostname,
    machineId: n.toString(16).padStart(32, "0"),
    os: { platform: "linux", distro: "Ubuntu", release: "24.04", kernel: "6.8.0", arch: "x64" },
    cpus: 8,
    memoryBytes: 16 * 2 ** 30,
    diskFreeBytes: 500 * 2 ** 30,
    swapBytes: 0,
    interfaces: [{ name: "eth0", up: true, mac: "02:00:00:00:00:01", ipv4: [{ address: ip, prefix: 24 }] }],
    address: ip,
    rke2: { installed: false },
    ...over,
  };
}

export class FakeLink implements AgentLink {
  readonly frames: CoordinatorFrame[] = [];
  closedWith: { code: number; reason: string } | null = null;
  send(frame: CoordinatorFrame): void {
    this.frames.push(structuredClone(frame));
  }
  close(code: number, reason: string): void {
    this.closedWith = { code, reason };
  }
  /** Every frame of a type, oldest first. */
  all<T extends CoordinatorFrame["type"]>(type: T): Extract<CoordinatorFrame, { type: T }>[] {
    return this.frames.filter((f) => f.type === type) as Extract<CoordinatorFrame, { type: T }>[];
  }
  last<T extends CoordinatorFrame["type"]>(type: T): Extract<CoordinatorFrame, { type: T }> | undefined {
    return this.all(type).at(-1);
  }
}

export interface World {
  coord: Coordinator;
  stateDir: string;
  logs: string[];
  clock: { now: number };
  registration: { healthy: boolean };
  links: Map<string, FakeLink>;
  /** A fresh coordinator on the same state dir (the old one must be closed). */
  reopen(over?: Partial<CoordinatorOptions>): World;
}

export function makeWorld(t: Test, over: Partial<CoordinatorOptions> = {}, stateDir = t.testdir()): World {
  const { logger, logs } = captureLogger();
  const clock = { now: T0 };
  const registration = { healthy: true };
  const coord = createCoordinator({
    stateDir,
    logger,
    now: () => clock.now,
    registrationProbe: () => async () => registration.healthy,
    ...over,
  });
  t.teardown(() => coord.close());
  const world: World = {
    coord,
    stateDir,
    logs,
    clock,
    registration,
    links: new Map(),
    reopen: (more = {}) => {
      const next = makeWorld(t, { ...over, ...more }, stateDir);
      next.clock.now = clock.now;
      return next;
    },
  };
  return world;
}

let counter = 0;
/** Enrols and connects a node, and runs the planning pass that asks it for checks. */
export function join(
  w: World,
  name: string,
  role: Role,
  factsOver: Partial<NodeFacts> = {},
  n = ++counter + 100,
) {
  const { token } = w.coord.createJoinToken({ role });
  const facts = nodeFacts(name, n, factsOver);
  const { node, credential } = w.coord.enrol(
    { type: "enrol", joinToken: token, facts, agentVersion: "0.1.0" },
    "10.9.9.9",
  );
  const link = new FakeLink();
  w.links.set(node, link);
  w.coord.attach(node, link, null);
  w.coord.tick(); // the planning pass attach scheduled: asks for checks
  return { node, credential, link, facts };
}

export function link(w: World, node: string): FakeLink {
  const l = w.links.get(node);
  if (!l) throw new Error(`no link for ${node}`);
  return l;
}

export function send(w: World, node: string, frame: AgentFrame): void {
  w.coord.handleFrame(node, frame);
}

const PASS: CheckResult[] = [{ name: "os", status: "pass", message: "Linux" }];

/** Answers the node's outstanding checks.run. */
export function answerChecks(w: World, node: string, results: CheckResult[] = PASS): void {
  const run = link(w, node).last("checks.run");
  if (!run) throw new Error(`${node} got no checks.run`);
  send(w, node, { type: "checks.result", requestId: run.requestId, results });
}

export function planOf(w: World, node: string): NodePlan {
  const apply = link(w, node).last("plan.apply");
  if (!apply) throw new Error(`${node} got no plan`);
  return apply.plan;
}

/** Plays the agent converging to its plan: phases, the token for an init that captures it, plan.done. */
/** The node's agent runs its plan to the end; `rke2Version`: what it says it installed. */
export function finish(w: World, node: string, token = CLUSTER_TOKEN, rke2Version?: string): void {
  const plan = planOf(w, node);
  for (const phase of ["install", "configure", "start", "wait-ready"] as const)
    send(w, node, { type: "phase", checksum: plan.checksum, phase, status: "succeeded" });
  if (plan.captureToken) send(w, node, { type: "token.captured", checksum: plan.checksum, token });
  send(w, node, {
    type: "plan.done",
    checksum: plan.checksum,
    ok: true,
    ...(rke2Version ? { rke2Version } : {}),
  });
}

/** Enrols server `name`, passes its checks and completes its init plan (token captured). */
export function formInit(w: World, name = "s1"): void {
  join(w, name, "server");
  answerChecks(w, name);
  w.coord.tick();
  finish(w, name);
}

export function stateOf(w: World, node: string): string {
  return w.coord.getNode(node).state;
}

export function eventsOf(w: World) {
  return w.coord.listEvents(0, 1000).events;
}
