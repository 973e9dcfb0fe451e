// A small HTTPS client for the coordinator's REST API from the host, through a unix-socket forwarder
// (forward-main.ts) running in the coordinator's netns. TLS is verified against the coordinator's CA.
import tls from "node:tls";
import { request } from "@muster/net";

export interface ApiResponse<T = unknown> {
  status: number;
  body: T;
}

export interface ApiClientOptions {
  socketPath: string;
  /** Name the serving certificate is checked against (the coordinator's address). */
  servername: string;
  ca: string | Buffer;
  adminToken: string;
}

export class ApiClient {
  readonly #opts: ApiClientOptions;

  constructor(opts: ApiClientOptions) {
    this.#opts = opts;
  }

  async request<T = unknown>(method: string, path: string, body?: unknown): Promise<ApiResponse<T>> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const res = await request(new URL(path, "https://localhost"), {
      socketPath: this.#opts.socketPath,
      method,
      headers: {
        authorization: `Bearer ${this.#opts.adminToken}`,
        ...(payload ? { "content-type": "application/json", "content-length": payload.length } : {}),
      },
      ...(payload ? { body: payload } : {}),
      tls: {
        ca: this.#opts.ca,
        // The socket path says nothing about the peer's name: check the cert against the address.
        checkServerIdentity: (_host, cert) => tls.checkServerIdentity(this.#opts.servername, cert),
      },
      timeoutMs: 15_000,
      timeoutError: () => new Error(`${method} ${path} timed out`),
    });
    const text = res.body.toString("utf8");
    let parsed: unknown = text;
    try {
      parsed = text === "" ? null : JSON.parse(text);
    } catch {
      // Not JSON (e.g. the bootstrap script): return the text.
    }
    return { status: res.status, body: parsed as T };
  }

  async get<T = unknown>(path: string): Promise<T> {
    const r = await this.request<T>("GET", path);
    if (r.status >= 400) throw new Error(`GET ${path}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  }

  async post<T = unknown>(path: string, body: unknown): Promise<T> {
    const r = await this.request<T>("POST", path, body);
    if (r.status >= 400) throw new Error(`POST ${path}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  }
}
