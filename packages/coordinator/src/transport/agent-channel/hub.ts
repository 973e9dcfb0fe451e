import {
  type AgentFrame,
  CloseCodes,
  type CoordinatorFrame,
  type Logger,
  MAX_FRAME_BYTES,
  MusterError,
} from "@muster/shared";
import { WebSocket } from "ws";
import type { AgentLink, CoordinatorService } from "../../domain/service.ts";
import {
  AgentSocket,
  closeFor,
  parseAgentFrame,
  pendingReason,
  type Refusal,
  truncateReason,
} from "./protocol.ts";

// The /v1/agent channel. Every frame is parsed against the shared schema before anything acts on
// it; a frame that fails is answered by closing the socket with a reason that names the problem,
// and the domain never sees it. Built for ~10k sockets: per connection only a small object and its
// listeners, and one sweep timer for auth deadlines, pings and heartbeat timeouts.

export interface HubOptions {
  service: CoordinatorService;
  logger: Logger;
  /** Announced in `welcome`; the agent sends `heartbeat` this often. */
  heartbeatSeconds?: number;
  /** The first frame (enrol/hello) must arrive within this. */
  authTimeoutMs?: number;
  /** Resolution of the sweep timer. */
  sweepMs?: number;
  /** On shutdown, how long agents get to answer the 1001 close before their sockets are cut. */
  shutdownGraceMs?: number;
  /** Sockets that have not authenticated yet, at most; more are closed at once (default 1024). */
  maxPending?: number;
  /** The largest first (enrol/hello) frame; a bigger one closes the socket (default 64 KiB). */
  maxPreAuthFrameBytes?: number;
  /** Unauthenticated sockets from one source address, at most (default 32); see mayAccept. */
  maxPendingPerSource?: number;
}

/** An enrol frame with a host's facts is a few KiB: 64 KiB is ample, 1 MiB is not needed before auth. */
export const MAX_PRE_AUTH_FRAME_BYTES = 64 * 1024;
export const MAX_PENDING_SOCKETS = 1024;
export const MAX_PENDING_PER_SOURCE = 32;

const MISSED_HEARTBEATS = 3;

/** ws has one maxPayload per server; its per-socket reader keeps a copy we can lower and lift. */
function setReceiverLimit(ws: WebSocket, bytes: number): void {
  if (ws instanceof AgentSocket) ws.preAuthLimit = bytes === MAX_FRAME_BYTES ? null : bytes;
  const receiver = (ws as unknown as { _receiver?: { _maxPayload?: number } })._receiver;
  if (receiver && typeof receiver._maxPayload === "number") receiver._maxPayload = bytes;
}

/**
 * After a protocol error ws keeps reading (and discarding) the rest of the frame, so 300 peers
 * announcing 1 MiB each still push 300 MiB through TLS into short-lived buffers, and the process
 * keeps that memory. An unauthenticated peer has nothing more to say: its close frame is written,
 * and the socket stops reading (ws resumes it on the next tick, so pause after that).
 */
function stopReading(ws: WebSocket): void {
  const socket = (ws as unknown as { _socket?: import("node:net").Socket })._socket;
  if (!socket) return;
  process.nextTick(() => {
    socket.pause();
    socket.removeAllListeners("data");
  });
}

function source(remoteAddress: string | undefined): string {
  return (remoteAddress ?? "").replace(/^::ffff:/, "");
}

class Connection implements AgentLink {
  node: string | null = null;
  lastSeen: number;
  detached = false;
  /** Enrolled, its welcome waiting until the enrolment is durable (store/db.ts "grouped"). */
  enrolling = false;
  readonly ws: WebSocket;
  readonly remote: string;

  constructor(ws: WebSocket, remote: string, now: number) {
    this.ws = ws;
    this.remote = remote;
    this.lastSeen = now;
  }

  send(frame: CoordinatorFrame): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(frame));
  }

  close(code: number, reason: string): void {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING)
      this.ws.close(code, truncateReason(reason));
  }
}

export class AgentHub {
  readonly heartbeatSeconds: number;
  #service: CoordinatorService;
  #log: Logger;
  #authTimeoutMs: number;
  #shutdownGraceMs: number;
  #maxPending: number;
  #maxPreAuthFrameBytes: number;
  #maxPendingPerSource: number;
  #pending = new Map<Connection, number>();
  /** Unauthenticated sockets per source address (entries removed at zero). */
  #pendingBySource = new Map<string, number>();
  #live = new Set<Connection>();
  #timer: NodeJS.Timeout;
  #lastHeartbeatSweep = Date.now();

  constructor(opts: HubOptions) {
    this.#service = opts.service;
    this.#log = opts.logger;
    this.heartbeatSeconds = opts.heartbeatSeconds ?? 15;
    this.#authTimeoutMs = opts.authTimeoutMs ?? 10_000;
    this.#shutdownGraceMs = opts.shutdownGraceMs ?? 3000;
    this.#maxPending = opts.maxPending ?? MAX_PENDING_SOCKETS;
    this.#maxPreAuthFrameBytes = opts.maxPreAuthFrameBytes ?? MAX_PRE_AUTH_FRAME_BYTES;
    this.#maxPendingPerSource = opts.maxPendingPerSource ?? MAX_PENDING_PER_SOURCE;
    this.#timer = setInterval(() => this.#sweep(Date.now()), opts.sweepMs ?? 1000);
    this.#timer.unref();
  }

  get connections(): number {
    return this.#pending.size + this.#live.size;
  }

  /**
   * Whether an upgrade from `remoteAddress` may go ahead: asked before the WebSocket handshake, so a
   * source that already holds its share of unauthenticated sockets is answered 429 over plain HTTP
   * and costs no WebSocket state or pre-auth buffers (each unauthenticated socket may hold up to
   * the pre-auth frame limit plus a read's worth of data until it is refused).
   */
  mayAccept(remoteAddress: string | undefined): boolean {
    return (this.#pendingBySource.get(source(remoteAddress)) ?? 0) < this.#maxPendingPerSource;
  }

  accept(ws: WebSocket, remoteAddress: string | undefined): void {
    const conn = new Connection(ws, source(remoteAddress), Date.now());
    if (this.#pending.size >= this.#maxPending) {
      // A flood of sockets that never authenticate must not hold memory or starve real agents.
      ws.close(CloseCodes.TRY_LATER, "too many unauthenticated connections; retry later");
      setTimeout(() => ws.terminate(), 1000).unref(); // a peer that ignores the close
      return;
    }
    this.#pending.set(conn, conn.lastSeen + this.#authTimeoutMs);
    this.#pendingBySource.set(conn.remote, (this.#pendingBySource.get(conn.remote) ?? 0) + 1);
    // Before auth the socket's reader refuses frames over the pre-auth limit as their header
    // arrives (close 1009), so a flood of 1 MiB frames is never buffered; lifted after auth.
    setReceiverLimit(ws, this.#maxPreAuthFrameBytes);
    ws.on("error", () => {
      // A protocol error (oversized frame...) starts a close; an unauthenticated peer that ignores
      // it does not keep its TCP connection for ws's 30 s close timeout.
      if (conn.node === null) {
        stopReading(ws);
        setTimeout(() => ws.terminate(), 1000).unref();
      }
    });
    ws.on("message", (data, isBinary) => this.#onMessage(conn, data as Buffer, isBinary));
    ws.on("close", () => this.#forget(conn));
  }

  /**
   * One timer for every socket: auth deadlines each tick, pings and timeouts once per heartbeat.
   * Liveness is the agent's own protocol: any frame it sends (at least its heartbeat) counts, a pong
   * does not (the ws library answers pings by itself, whatever state the agent is in). Our pings
   * keep idle connections open through middleboxes and let the agent notice a dead coordinator.
   */
  #sweep(now: number): void {
    for (const [conn, deadline] of this.#pending) {
      if (now >= deadline)
        this.#drop(
          conn,
          CloseCodes.UNAUTHORIZED,
          `no enrol or hello frame within ${this.#authTimeoutMs / 1000} s`,
        );
    }
    // Dead links every tick, so a cut link is noticed within the limit plus one sweep (the spec's
    // timeouts.heartbeat, docs/reference.md#node-loss); pings once per heartbeat.
    const interval = this.heartbeatSeconds * 1000;
    const limit = interval * MISSED_HEARTBEATS;
    for (const conn of this.#live)
      if (now - conn.lastSeen > limit)
        this.#drop(conn, CloseCodes.HEARTBEAT_TIMEOUT, `no heartbeat for ${limit / 1000} s`);
    if (now - this.#lastHeartbeatSweep < interval) return;
    this.#lastHeartbeatSweep = now;
    for (const conn of this.#live) if (conn.ws.readyState === WebSocket.OPEN) conn.ws.ping();
  }

  /** Graceful shutdown: 1001 to everyone, then terminate whoever has not closed after `graceMs`. */
  async shutdown(graceMs = this.#shutdownGraceMs): Promise<void> {
    clearInterval(this.#timer);
    const all = [...this.#pending.keys(), ...this.#live];
    const closed = all.map((c) =>
      c.ws.readyState === WebSocket.CLOSED ? null : new Promise<void>((r) => c.ws.once("close", () => r())),
    );
    for (const conn of all) this.#drop(conn, CloseCodes.SHUTDOWN, "coordinator shutting down");
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((r) => {
      timer = setTimeout(r, graceMs);
    });
    await Promise.race([Promise.all(closed), grace]);
    clearTimeout(timer);
    for (const conn of all) conn.ws.terminate();
  }

  #onMessage(conn: Connection, data: Buffer, isBinary: boolean): void {
    conn.lastSeen = Date.now();
    // Closing (by us, or by the domain replacing this link): later frames are not acted on.
    if (conn.detached || conn.ws.readyState !== WebSocket.OPEN) return;
    const refusal = this.#receive(conn, data, isBinary);
    if (refusal) this.#drop(conn, refusal.code, refusal.reason);
  }

  /** Acts on one frame; returns why the connection must close, if it must. */
  #receive(conn: Connection, data: Buffer, isBinary: boolean): Refusal | null {
    if (isBinary)
      return { code: CloseCodes.BAD_FRAME, reason: "binary frames are not accepted; send JSON text" };
    if (conn.node === null && data.length > this.#maxPreAuthFrameBytes)
      return {
        code: CloseCodes.BAD_FRAME,
        reason: `first frame larger than ${this.#maxPreAuthFrameBytes} bytes`,
      };
    const parsed = parseAgentFrame(data.toString("utf8"));
    if (!parsed.ok) return { code: CloseCodes.BAD_FRAME, reason: parsed.reason };
    const frame = parsed.frame;
    if (conn.enrolling)
      return { code: CloseCodes.BAD_FRAME, reason: `${frame.type} before the welcome: wait for it` };
    if (conn.node === null) return this.#authenticate(conn, frame);
    if (frame.type === "enrol" || frame.type === "hello")
      return { code: CloseCodes.BAD_FRAME, reason: `${frame.type} is only valid as the first frame` };
    try {
      this.#service.handleFrame(conn.node, frame);
      return null;
    } catch (err) {
      return this.#onDomainError(conn, frame.type, err);
    }
  }

  #authenticate(conn: Connection, frame: AgentFrame): Refusal | null {
    if (frame.type !== "enrol" && frame.type !== "hello")
      return {
        code: CloseCodes.UNAUTHORIZED,
        reason: `first frame must be enrol or hello, got ${frame.type}`,
      };
    try {
      if (frame.type === "hello") {
        const { node } = this.#service.authenticate(frame);
        this.#admit(conn, node, undefined, frame.appliedChecksum, "hello");
        return null;
      }
      const enrolled = this.#service.enrol(frame, conn.remote, "grouped");
      // The welcome carries the credential: it leaves only once the node's row is durable. The
      // enrolments of one turn share that fsync (store/db.ts "grouped"), so the wait is one commit.
      conn.enrolling = true;
      this.#service.durable().then(
        () => {
          conn.enrolling = false;
          if (conn.detached || conn.ws.readyState !== WebSocket.OPEN) return;
          try {
            const { node, credential, pendingApproval } = enrolled;
            if (pendingApproval !== undefined) {
              // The newcomer keeps its own credential (its claim) and comes back with hello; until
              // the operator approves, every hello is refused like this one (transitions/approval.ts).
              conn.send({ type: "welcome", node, heartbeatSeconds: this.heartbeatSeconds, credential });
              this.#log.warn({ node, remote: conn.remote }, "re-enrolment waits for the operator's approval");
              this.#drop(conn, CloseCodes.PENDING_APPROVAL, pendingReason({ message: `node ${node}` }));
              return;
            }
            this.#admit(conn, node, credential, null, "enrol");
          } catch (err) {
            const refusal = this.#refused(conn, err);
            this.#drop(conn, refusal.code, refusal.reason);
          }
        },
        (err: unknown) => {
          conn.enrolling = false;
          this.#log.error({ err, remote: conn.remote }, "enrolment could not be stored");
          this.#drop(conn, 1011, "the enrolment could not be stored; the agent enrols again");
        },
      );
      return null;
    } catch (err) {
      return this.#refused(conn, err);
    }
  }

  /** The connection is the node's from now on: the welcome (with its credential once), then attach. */
  #admit(
    conn: Connection,
    node: string,
    credential: string | undefined,
    appliedChecksum: string | null,
    via: "enrol" | "hello",
  ): void {
    conn.node = node;
    setReceiverLimit(conn.ws, MAX_FRAME_BYTES);
    this.#unpend(conn);
    this.#live.add(conn);
    const welcome = { type: "welcome", node, heartbeatSeconds: this.heartbeatSeconds } as const;
    conn.send(credential ? { ...welcome, credential } : welcome);
    this.#service.attach(node, conn, appliedChecksum);
    this.#log.info({ node, remote: conn.remote, via }, "agent connected");
  }

  #refused(conn: Connection, err: unknown): Refusal {
    const refusal = closeFor(err);
    if (refusal.code === 1011) this.#log.error({ err, remote: conn.remote }, "agent authentication failed");
    else this.#log.info({ remote: conn.remote, ...refusal }, "agent connection refused");
    return refusal;
  }

  /** MusterError -> an `error` frame (or a close for auth failures); anything else is logged, not shown. */
  #onDomainError(conn: Connection, type: string, err: unknown): Refusal | null {
    if (err instanceof MusterError && (err.status === 401 || err.status === 403)) return closeFor(err);
    if (err instanceof MusterError) {
      this.#log.info({ node: conn.node, frame: type, code: err.code }, err.message);
      conn.send({ type: "error", code: err.code, message: err.message });
    } else {
      this.#log.error({ err, node: conn.node, frame: type }, "agent frame handling failed");
      conn.send({ type: "error", code: "INTERNAL", message: "Internal error" });
    }
    return null;
  }

  /** Stop listening to the connection, tell the domain at once, then close the socket. */
  #drop(conn: Connection, code: number, reason: string): void {
    this.#forget(conn);
    conn.close(code, reason);
    // An unauthenticated peer that ignores the close frame does not keep its TCP connection.
    if (conn.node === null) setTimeout(() => conn.ws.terminate(), 1000).unref();
  }

  #unpend(conn: Connection): void {
    if (!this.#pending.delete(conn)) return;
    const left = (this.#pendingBySource.get(conn.remote) ?? 1) - 1;
    if (left > 0) this.#pendingBySource.set(conn.remote, left);
    else this.#pendingBySource.delete(conn.remote);
  }

  #forget(conn: Connection): void {
    this.#unpend(conn);
    this.#live.delete(conn);
    if (conn.detached) return;
    conn.detached = true;
    if (conn.node === null) return;
    try {
      this.#service.detach(conn.node, conn);
    } catch (err) {
      this.#log.error({ err, node: conn.node }, "detach failed");
    }
  }
}
