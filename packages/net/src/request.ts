import http from "node:http";
import https from "node:https";
import type net from "node:net";

// The one HTTP(S) request helper: a URL or a unix socket, TLS options passed through as they are, a
// timeout that destroys the request, and an answer read whole up to a size limit. `openRequest`
// hands back the response stream for downloads that go to a file.

export interface RequestOptions {
  method?: string;
  headers?: http.OutgoingHttpHeaders;
  body?: string | Buffer;
  timeoutMs?: number;
  /** The error a timeout destroys the request with (default "timed out after N ms"). */
  timeoutError?: () => Error;
  /** TLS (https: only): CA, client certificate, verification, name check. */
  tls?: Pick<https.RequestOptions, "ca" | "cert" | "key" | "rejectUnauthorized" | "checkServerIdentity">;
  /** An already-connected (e.g. pin-verified) socket or a factory for one; no agent is used then. */
  createConnection?: () => net.Socket;
  /** Talk to this unix socket instead of the URL's host (the URL still gives scheme and path). */
  socketPath?: string;
}

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export function openRequest(url: string | URL, opts: RequestOptions = {}): Promise<http.IncomingMessage> {
  const u = new URL(url);
  const mod = u.protocol === "https:" ? https : u.protocol === "http:" ? http : null;
  if (!mod) return Promise.reject(new Error(`unsupported URL scheme: ${u.protocol}`));
  const timeoutMs = opts.timeoutMs ?? 10_000;
  return new Promise((resolve, reject) => {
    const req = mod.request(
      u,
      {
        method: opts.method ?? "GET",
        headers: opts.headers,
        timeout: timeoutMs,
        ...(u.protocol === "https:" ? opts.tls : {}),
        ...(opts.socketPath ? { socketPath: opts.socketPath } : {}),
        // With createConnection and no agent node uses the given socket as is.
        ...(opts.createConnection ? { createConnection: opts.createConnection } : { agent: false }),
      },
      resolve,
    );
    req.on("timeout", () =>
      req.destroy(opts.timeoutError?.() ?? new Error(`timed out after ${timeoutMs} ms`)),
    );
    req.on("error", reject);
    req.end(opts.body);
  });
}

/** Reads a response whole; more than `maxBytes` destroys it and rejects. */
export async function readBody(
  res: http.IncomingMessage,
  maxBytes = Number.POSITIVE_INFINITY,
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) {
      res.destroy();
      throw new Error(`response body larger than ${maxBytes} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** A request and its whole answer. */
export async function request(
  url: string | URL,
  opts: RequestOptions & { maxBytes?: number } = {},
): Promise<Reply> {
  const res = await openRequest(url, opts);
  return { status: res.statusCode ?? 0, headers: res.headers, body: await readBody(res, opts.maxBytes) };
}
