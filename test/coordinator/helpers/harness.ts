import { Writable } from "node:stream";
import {
  type Coordinator,
  type CoordinatorOptions,
  createCoordinator,
} from "@muster/coordinator/domain/coordinator";
import { type BuildAppOptions, buildApp, type MusterApp } from "@muster/coordinator/transport/http/app";
import { type CoordinatorFrame, createLogger, hashSecret, type NodeFacts } from "@muster/shared";
import type { Test } from "tap";
import type { WebSocket } from "ws";
import { nodeFacts } from "./domain.ts";

// Builds the real app over the real domain (createCoordinator) in a per-test state dir, with every
// log line captured so tests can assert on them (and scan them for secrets).

export const ADMIN_TOKEN = "test-admin-token-0123456789abcdef";
export const PIN = "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
export const PUBLIC_URL = "https://coord.test:9443";
export const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };

export interface Harness {
  app: MusterApp;
  service: Coordinator;
  stateDir: string;
  logs: string[];
}

export interface MakeAppOptions {
  app?: Partial<BuildAppOptions>;
  coordinator?: Partial<CoordinatorOptions>;
  /** Serve this instead of the real service (e.g. one method made to throw). */
  wrap?: (service: Coordinator) => Coordinator;
}

export async function makeApp(t: Test, opts: MakeAppOptions = {}): Promise<Harness> {
  const stateDir = t.testdir();
  const logs: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      logs.push(...String(chunk).split("\n").filter(Boolean));
      done();
    },
  });
  const logger = createLogger({ name: "test", level: "debug", destination });
  // The registration probe is faked: there is no RKE2 behind these tests.
  const service = createCoordinator({
    stateDir,
    logger,
    registrationProbe: () => async () => true,
    ...opts.coordinator,
  });
  service.start();
  const app = await buildApp({
    service: opts.wrap ? opts.wrap(service) : service,
    logger,
    publicUrl: PUBLIC_URL,
    pin: PIN,
    adminTokenHash: hashSecret(ADMIN_TOKEN),
    hub: { heartbeatSeconds: service.heartbeatSeconds, shutdownGraceMs: 50 },
    ...opts.app,
  });
  t.teardown(async () => {
    // injectWS streams never finish a close handshake; cut them so no 30 s close timer lingers.
    for (const agent of FakeAgent.all.splice(0)) agent.ws.terminate();
    await app.close();
    await service.close();
  });
  return { app, service, stateDir, logs };
}

let machine = 0;
/** Facts of a healthy Linux host; each call is a new machine unless `machineId` is given. */
export function facts(hostname: string, over: Partial<NodeFacts> = {}): NodeFacts {
  machine += 1;
  const base = nodeFacts(hostname, machine % 200, {
    defaultRoute: { interface: "eth0", gateway: "10.0.0.1" },
  });
  return { ...base, machineId: machine.toString(16).padStart(32, "0"), ...over };
}

/** A fake agent over injectWS: records frames, waits for them, and sees how the socket closed. */
export class FakeAgent {
  static readonly all: FakeAgent[] = [];
  readonly ws: WebSocket;
  readonly frames: CoordinatorFrame[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  #waiters: Array<() => void> = [];

  constructor(ws: WebSocket) {
    this.ws = ws;
    FakeAgent.all.push(this);
    ws.on("message", (data) => {
      this.frames.push(JSON.parse(String(data)) as CoordinatorFrame);
      for (const w of this.#waiters.splice(0)) w();
    });
    this.closed = new Promise((resolve) => {
      ws.on("close", (code, reason) => {
        resolve({ code, reason: String(reason) });
        for (const w of this.#waiters.splice(0)) w();
      });
    });
  }

  static async connect(app: MusterApp): Promise<FakeAgent> {
    return new FakeAgent(await app.injectWS("/v1/agent"));
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === "string" ? frame : JSON.stringify(frame));
  }

  /** The next frame of this type not yet taken; rejects if the socket closes or time runs out. */
  async next<T extends CoordinatorFrame["type"]>(
    type: T,
    timeoutMs = 5000,
  ): Promise<Extract<CoordinatorFrame, { type: T }>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.frames.findIndex((f) => f.type === type);
      if (i >= 0) return this.frames.splice(i, 1)[0] as Extract<CoordinatorFrame, { type: T }>;
      if (this.ws.readyState >= 2) throw new Error(`socket closed while waiting for ${type}`);
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(`no ${type} frame within ${timeoutMs} ms (got ${this.frames.map((f) => f.type)})`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  close(): void {
    this.ws.close();
  }
}

export async function createJoinToken(
  app: MusterApp,
  role: "server" | "agent",
): Promise<{ id: string; token: string }> {
  const res = await app.inject({ method: "POST", url: "/v1/join-tokens", headers: auth, payload: { role } });
  if (res.statusCode !== 201) throw new Error(`join token: ${res.statusCode} ${res.body}`);
  return res.json();
}

/** Enrols a fake agent and returns it with its welcome. */
export async function enrol(app: MusterApp, joinToken: string, nodeFacts: NodeFacts) {
  const agent = await FakeAgent.connect(app);
  agent.send({ type: "enrol", joinToken, facts: nodeFacts, agentVersion: "0.1.0" });
  const welcome = await agent.next("welcome");
  return { agent, welcome };
}

/** Answers a checks.run with all checks passing. */
export async function passChecks(agent: FakeAgent): Promise<void> {
  const run = await agent.next("checks.run");
  agent.send({
    type: "checks.result",
    requestId: run.requestId,
    results: [{ name: "os", status: "pass", message: "Linux" }],
  });
}

/** What must never change when a request or frame is refused. */
export async function snapshot(app: MusterApp): Promise<string> {
  const get = async (url: string) => (await app.inject({ method: "GET", url, headers: auth })).body;
  return JSON.stringify([
    await get("/v1/nodes"),
    await get("/v1/join-tokens"),
    await get("/v1/events?limit=1000"),
  ]);
}
