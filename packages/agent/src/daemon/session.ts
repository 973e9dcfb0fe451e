import { type AgentFrame, CloseCodes, type CoordinatorFrame, type Logger } from "@muster/shared";
import WebSocket from "ws";
import { parseCoordinatorFrame } from "./frames.ts";
import { openPinnedSocket, PinMismatchError } from "./pinned-socket.ts";

// One WebSocket session with the coordinator: pinned TLS, the first frame (enrol or hello) once the
// pin is verified, strict parsing of everything that comes back, and a heartbeat after `welcome`.
export interface SessionHandlers {
  /** Builds enrol or hello; called only after the pin was verified. */
  firstFrame(): Promise<AgentFrame>;
  onFrame(frame: CoordinatorFrame, session: Session): void | Promise<void>;
  onRefusedFrame(reason: string): void;
}

export interface SessionEnd {
  code: number;
  reason: string;
  pinMismatch: boolean;
  welcomed: boolean;
  error?: string;
}

export class Session {
  readonly ws: WebSocket;
  welcomed = false;
  private heartbeat: NodeJS.Timeout | undefined;
  /** Last frame or ping from the coordinator: a half-open connection shows up as silence. */
  private lastHeard = Date.now();
  readonly ended: Promise<SessionEnd>;

  private readonly log: Logger;

  constructor(url: string, pin: string, handlers: SessionHandlers, log: Logger) {
    this.log = log;
    const opened = openPinnedSocket(url, pin);
    this.ws = opened.ws;
    let lastError: Error | undefined;
    this.ended = new Promise((resolve) => {
      this.ws.on("upgrade", () => {
        // Second line of defence: never let an unverified socket reach "open".
        if (!opened.pin.verified) this.ws.terminate();
      });
      this.ws.on("open", () => {
        if (!opened.pin.verified) return this.ws.terminate();
        handlers
          .firstFrame()
          .then((frame) => this.sendRaw(frame))
          .catch((err: Error) => {
            log.error({ reason: err.message }, "could not build the first frame; closing");
            this.ws.close(1011, "agent error");
          });
      });
      this.ws.on("ping", () => {
        this.lastHeard = Date.now();
      });
      this.ws.on("message", (data) => {
        this.lastHeard = Date.now();
        const parsed = parseCoordinatorFrame(data);
        if (!parsed.ok) return handlers.onRefusedFrame(parsed.reason);
        Promise.resolve(handlers.onFrame(parsed.frame, this)).catch((err: Error) =>
          log.error({ reason: err.message, frame: parsed.frame.type }, "handling a frame failed"),
        );
      });
      this.ws.on("error", (err) => {
        lastError = err;
      });
      this.ws.on("close", (code, reason) => {
        this.stopHeartbeat();
        resolve({
          code,
          reason: reason.toString("utf8"),
          pinMismatch: opened.pin.mismatch !== undefined || lastError instanceof PinMismatchError,
          welcomed: this.welcomed,
          ...(lastError ? { error: lastError.message } : {}),
        });
      });
    });
  }

  get open(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  sendRaw(frame: AgentFrame): boolean {
    if (!this.open) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  /** Heartbeats every `seconds`; a coordinator silent for 3 intervals (it pings as often) is dropped. */
  startHeartbeat(seconds: number): void {
    this.stopHeartbeat();
    this.lastHeard = Date.now();
    this.heartbeat = setInterval(() => {
      if (Date.now() - this.lastHeard > seconds * 3000 + 1000) {
        this.log.warn(
          { silentSeconds: Math.round((Date.now() - this.lastHeard) / 1000) },
          "coordinator went silent; reconnecting",
        );
        this.ws.terminate();
        return;
      }
      this.sendRaw({ type: "heartbeat" });
    }, seconds * 1000);
  }

  stopHeartbeat(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
  }

  /** Closes normally (1000) and waits, bounded, for the close handshake. */
  async close(reason: string, waitMs = 3000): Promise<void> {
    this.stopHeartbeat();
    if (this.ws.readyState === WebSocket.CONNECTING) this.ws.terminate();
    else if (this.ws.readyState === WebSocket.OPEN) this.ws.close(1000, reason);
    const timer = new Promise<void>((r) => setTimeout(r, waitMs).unref());
    await Promise.race([this.ended.then(() => undefined), timer]);
    if (this.ws.readyState !== WebSocket.CLOSED) this.ws.terminate();
  }
}

/** Closes that retrying soon cannot fix: bad credentials, or a conflict (e.g. wrong join-token role). */
export const isRefusal = (code: number) =>
  code === CloseCodes.UNAUTHORIZED || code === CloseCodes.FORBIDDEN || code === CloseCodes.CONFLICT;
