import { request } from "node:https";
import type { ConnectionOptions, TLSSocket } from "node:tls";
import { pinnedConnect as netPinnedConnect } from "@muster/net";
import { WebSocket } from "ws";

// Talk to the coordinator the way the agent and curl do: no CA, trust only the pinned public key,
// checked as soon as the TLS handshake completes and before a byte of HTTP is sent.

export function pinnedConnect(opts: ConnectionOptions, pin: string): TLSSocket {
  return netPinnedConnect(opts, pin, { mismatch: () => new Error("coordinator key does not match the pin") });
}

export function pinnedWebSocket(url: string, pin: string): WebSocket {
  return new WebSocket(url, {
    perMessageDeflate: false,
    createConnection: ((opts: ConnectionOptions) => pinnedConnect(opts, pin)) as never,
  });
}

/** A JSON REST call with the admin token; rejects on a non-2xx answer. */
export function api<T>(
  base: string,
  pin: string,
  token: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      `${base}${path}`,
      {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(payload ? { "content-type": "application/json" } : {}),
        },
        createConnection: ((opts: ConnectionOptions) => pinnedConnect(opts, pin)) as never,
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (d) => {
          text += d;
        });
        res.on("end", () => {
          if ((res.statusCode ?? 500) >= 300)
            reject(new Error(`${method} ${path}: ${res.statusCode} ${text}`));
          else resolve((text ? JSON.parse(text) : undefined) as T);
        });
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}
