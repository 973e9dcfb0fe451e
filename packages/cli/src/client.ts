import { rootCertificates, type TLSSocket } from "node:tls";
import { pinnedConnect, request } from "@muster/net";
import { issuesToDetails } from "@muster/shared";
import type { z } from "zod";
import { answerProblem, networkProblem } from "./system-errors.ts";

// The operator CLI's HTTPS client. Trust is never silently skipped: either the CA (the coordinator's
// own, plus the system roots for an operator-supplied certificate) verifies the chain and host name,
// or a pinned public key must match exactly. In pin mode the pin is checked on the handshake before a
// single request byte (and so the admin token) is written.

export type Trust = { kind: "ca"; ca: string[] } | { kind: "pin"; pin: string };

export interface ClientOptions {
  server: URL;
  token: string | undefined;
  trust: Trust;
  timeoutMs?: number;
}

/** A failure to show the operator as-is (exit 1). */
export class ApiError extends Error {
  override name = "ApiError";
  readonly status: number | undefined;
  /** The contract's error code (QUORUM_GUARD, OPERATION_IN_FLIGHT, ...) when the coordinator sent one. */
  readonly code: string | undefined;
  constructor(message: string, status?: number, code?: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

interface RawResponse {
  status: number;
  body: string;
}

function connectPinned(url: URL, pin: string, timeoutMs: number): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = pinnedConnect(
      {
        host: url.hostname.replace(/^\[|\]$/g, ""),
        port: Number(url.port || 443),
        servername: /^[\d.]+$|:/.test(url.hostname) ? "" : url.hostname,
        ALPNProtocols: ["http/1.1"],
        timeout: timeoutMs,
      },
      pin,
      {
        mismatch: (got) =>
          new ApiError(
            `the coordinator's public key (${got}) does not match --pin ${pin}; refusing to talk to it`,
          ),
      },
    );
    // pinnedConnect's own check runs first: a socket still open here presented the pin.
    socket.once("secureConnect", () => {
      if (!socket.destroyed) resolve(socket);
    });
    socket.once("timeout", () => socket.destroy(new Error("timed out")));
    socket.once("error", reject);
  });
}

function describeNetworkError(server: URL, err: NodeJS.ErrnoException): ApiError {
  if (err instanceof ApiError) return err;
  const code = err.code ?? "";
  if (/CERT|SELF_SIGNED|UNABLE_TO|ERR_TLS_CERT_ALTNAME/.test(code)) {
    return new ApiError(
      `cannot verify the coordinator's certificate at ${server.origin} (${code}): pass --ca-file <state-dir>/tls/ca.crt or --pin sha256//...`,
    );
  }
  return new ApiError(networkProblem(server.origin, err));
}

export class OperatorClient {
  readonly #opts: ClientOptions;

  constructor(opts: ClientOptions) {
    this.#opts = opts;
  }

  async #raw(method: string, path: string, body?: unknown): Promise<RawResponse> {
    const { server, token, trust } = this.#opts;
    const timeoutMs = this.#opts.timeoutMs ?? 15_000;
    const url = new URL(path, server);
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = { accept: "application/json" };
    if (token) headers["authorization"] = `Bearer ${token}`;
    if (payload !== undefined) {
      headers["content-type"] = "application/json";
      headers["content-length"] = String(Buffer.byteLength(payload));
    }
    try {
      const socket = trust.kind === "pin" ? await connectPinned(url, trust.pin, timeoutMs) : undefined;
      const res = await request(url, {
        method,
        headers,
        timeoutMs,
        timeoutError: () => new Error(`no answer within ${timeoutMs / 1000} s`),
        ...(payload !== undefined ? { body: payload } : {}),
        ...(socket
          ? { createConnection: () => socket }
          : { tls: { ca: trust.kind === "ca" ? trust.ca : undefined } }),
      });
      return { status: res.status, body: res.body.toString("utf8") };
    } catch (err) {
      throw describeNetworkError(server, err as NodeJS.ErrnoException);
    }
  }

  /** Sends a request and validates the answer with `schema`; non-2xx becomes ApiError with the server's message. */
  async request<S extends z.ZodType>(
    method: string,
    path: string,
    schema: S,
    body?: unknown,
  ): Promise<z.output<S>> {
    const res = await this.#raw(method, path, body);
    let json: unknown;
    try {
      json = res.body === "" ? undefined : JSON.parse(res.body);
    } catch {
      throw new ApiError(
        `the answer from ${this.#opts.server.origin} is not the coordinator's (not JSON); check that --server names the muster coordinator`,
        res.status,
      );
    }
    if (res.status < 200 || res.status > 299) throw errorFromBody(res.status, json);
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const detail = issuesToDetails(parsed.error.issues)
        .map((d) => `${d.path}: ${d.message}`)
        .join("; ");
      throw new ApiError(
        `the coordinator's answer is not what this CLI expects (${detail}); the coordinator may run another muster version than this CLI`,
        res.status,
      );
    }
    return parsed.data;
  }
}

function errorFromBody(status: number, json: unknown): ApiError {
  const error = (json as { error?: { code?: unknown; message?: unknown; details?: unknown } } | undefined)
    ?.error;
  let message = typeof error?.message === "string" ? error.message : answerProblem(status);
  if (Array.isArray(error?.details)) {
    for (const d of error.details as { path?: string; message?: string }[])
      message += `\n  ${d.path}: ${d.message}`;
  }
  if (status === 401) message += " (check MUSTER_TOKEN or --token-file)";
  return new ApiError(message, status, typeof error?.code === "string" ? error.code : undefined);
}

/** System roots plus the given PEMs: an operator-supplied public certificate keeps working. */
export function caTrust(pems: string[]): Trust {
  return { kind: "ca", ca: [...rootCertificates, ...pems] };
}
