// Minimal HTTPS plumbing for the supervisor (9345), apiserver (6443) and kubelet (10248) listeners,
// plus the client side a joining node uses: first unverified (to fetch /cacerts), then pinned to the CA.
import http from "node:http";
import https from "node:https";
import type { KeyPair } from "./pki.ts";

export interface Reply {
  status: number;
  body: string;
  type?: string;
}

export type Handler = (req: http.IncomingMessage, body: string) => Promise<Reply> | Reply;

const text = (status: number, body: string): Reply => ({ status, body, type: "text/plain; charset=utf-8" });
export const ok = (body: string) => text(200, body);
export const json = (value: unknown, status = 200): Reply => ({
  status,
  body: typeof value === "string" ? value : JSON.stringify(value),
  type: "application/json",
});
export const plain = text;

function handle(handler: Handler) {
  return (req: http.IncomingMessage, res: http.ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      Promise.resolve()
        .then(() => handler(req, Buffer.concat(chunks).toString()))
        .catch((err: Error) => text(500, `${err.message}\n`))
        .then((r) => {
          res.writeHead(r.status, { "content-type": r.type ?? "text/plain; charset=utf-8" });
          res.end(r.body);
        });
    });
  };
}

export interface Listener {
  close(): Promise<void>;
}

async function listen(server: http.Server | https.Server, host: string, port: number): Promise<Listener> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return {
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections?.();
      }),
  };
}

/** `clientCA`: ask clients for a certificate and verify it against this CA, without requiring one
 * (the apiserver's x509 authenticator: no certificate means anonymous, not a failed handshake). */
export function listenHttps(
  tls: KeyPair,
  host: string,
  port: number,
  handler: Handler,
  clientCA?: string,
): Promise<Listener> {
  const opts = clientCA ? { ca: clientCA, requestCert: true, rejectUnauthorized: false } : {};
  return listen(
    https.createServer({ key: tls.keyPem, cert: tls.certPem, ...opts }, handle(handler)),
    host,
    port,
  );
}

export function listenHttp(host: string, port: number, handler: Handler): Promise<Listener> {
  return listen(http.createServer(handle(handler)), host, port);
}

export interface Credentials {
  username: string;
  password: string;
}

export function basicAuth(req: http.IncomingMessage): Credentials | null {
  const m = /^Basic\s+(.+)$/i.exec(req.headers.authorization ?? "");
  if (!m) return null;
  const decoded = Buffer.from(m[1]!, "base64").toString();
  const colon = decoded.indexOf(":");
  return colon < 0 ? null : { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

export interface RequestOptions {
  /** Trust only this CA; without it the server certificate is not verified (first contact only). */
  ca?: string;
  auth?: Credentials;
  method?: string;
  body?: string;
  timeoutMs?: number;
}

export class HttpError extends Error {
  readonly status: number;
  /** The response body (the server's own explanation, e.g. "Node password rejected, ..."). */
  readonly body: string;
  constructor(url: string, status: number, statusText: string, body = "") {
    super(`${url}: ${status} ${statusText}`);
    this.status = status;
    this.body = body;
  }
}

/** HTTPS request; resolves with the body for 2xx, rejects with HttpError otherwise. */
export function request(url: string, opts: RequestOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {};
    if (opts.auth) {
      headers["authorization"] =
        `Basic ${Buffer.from(`${opts.auth.username}:${opts.auth.password}`).toString("base64")}`;
    }
    if (opts.body !== undefined) headers["content-type"] = "application/json";
    const req = https.request(
      url,
      {
        method: opts.method ?? "GET",
        headers,
        ca: opts.ca,
        rejectUnauthorized: opts.ca !== undefined,
        timeout: opts.timeoutMs ?? 10_000,
      },
      (res) => {
        let data = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => {
          data += d;
        });
        res.on("end", () => {
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) resolve(data);
          else reject(new HttpError(url, status, http.STATUS_CODES[status] ?? "", data.trim()));
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error(`${url}: request timed out`)));
    req.on("error", reject);
    req.end(opts.body);
  });
}
