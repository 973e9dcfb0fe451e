// A tiny wss server standing in for the coordinator: records every frame and connection, and lets
// a test script replies. Loopback only, self-signed certificate.
import https from "node:https";
import type { AddressInfo } from "node:net";
import { type WebSocket, WebSocketServer } from "ws";
import { selfSignedCert, type TestCert } from "../../helpers/self-signed-cert.ts";

export interface FakeCoordinator {
  url: string;
  cert: TestCert;
  /** Every text frame received, parsed, per connection index. */
  frames: Array<{ conn: number; frame: Record<string, unknown> }>;
  /** TCP connections accepted (TLS may then fail) and WebSocket upgrades completed. */
  stats: { tlsConnections: number; upgrades: number; closes: Array<{ code: number; reason: string }> };
  sockets: WebSocket[];
  onFrame?: (frame: Record<string, unknown>, ws: WebSocket, conn: number) => void;
  next(pred: (f: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}

export async function startFakeCoordinator(cert: TestCert = selfSignedCert()): Promise<FakeCoordinator> {
  const server = https.createServer({ cert: cert.cert, key: cert.key });
  const wss = new WebSocketServer({ server, path: "/v1/agent" });
  const waiters: Array<{
    pred: (f: Record<string, unknown>) => boolean;
    resolve: (f: Record<string, unknown>) => void;
  }> = [];
  const fc: FakeCoordinator = {
    url: "",
    cert,
    frames: [],
    stats: { tlsConnections: 0, upgrades: 0, closes: [] },
    sockets: [],
    next(pred, timeoutMs = 10_000) {
      const seen = fc.frames.find((f) => pred(f.frame) && !(f as { taken?: boolean }).taken);
      if (seen) {
        (seen as { taken?: boolean }).taken = true;
        return Promise.resolve(seen.frame);
      }
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error("fake coordinator: timed out waiting for a frame")),
          timeoutMs,
        );
        waiters.push({
          pred,
          resolve: (f) => {
            clearTimeout(timer);
            resolve(f);
          },
        });
      });
    },
    async close() {
      for (const s of fc.sockets) s.terminate();
      await new Promise<void>((r) => wss.close(() => r()));
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  server.on("connection", () => fc.stats.tlsConnections++);
  wss.on("connection", (ws) => {
    const conn = fc.sockets.push(ws) - 1;
    fc.stats.upgrades++;
    ws.on("message", (data) => {
      const frame = JSON.parse(String(data)) as Record<string, unknown>;
      const entry = { conn, frame } as { conn: number; frame: Record<string, unknown>; taken?: boolean };
      fc.frames.push(entry);
      const i = waiters.findIndex((w) => w.pred(frame));
      if (i >= 0) {
        entry.taken = true;
        waiters.splice(i, 1)[0]!.resolve(frame);
      }
      fc.onFrame?.(frame, ws, conn);
    });
    ws.on("close", (code, reason) => fc.stats.closes.push({ code, reason: String(reason) }));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  fc.url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return fc;
}

export const welcome = (node: string, credential?: string, heartbeatSeconds = 15) => ({
  type: "welcome",
  node,
  heartbeatSeconds,
  ...(credential ? { credential } : {}),
});
