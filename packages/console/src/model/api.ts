// The console's REST client: same-origin fetch with the admin token as a Bearer header. Every failure
// becomes an ApiError carrying the contract's {"error":{"code","message","details"?}} as sent, so a
// dialog can show a server verdict (a quorum guard's details) verbatim.

export interface ErrorDetail {
  path?: string;
  message?: string;
  [key: string]: unknown;
}

export class ApiError extends Error {
  override name = "ApiError";
  /** HTTP status; 0 when the coordinator could not be reached. */
  readonly status: number;
  readonly code: string;
  readonly details: readonly unknown[] | undefined;
  constructor(status: number, code: string, message: string, details?: readonly unknown[]) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

export type Fetch = (input: string, init?: RequestInit) => Promise<Response>;

export interface Api {
  get<T>(path: string, signal?: AbortSignal): Promise<T>;
  /** GET that answers null on 404 (a route a newer coordinator adds, e.g. /v1/whatif). */
  getIfPresent<T>(path: string, signal?: AbortSignal): Promise<T | null>;
  send<T>(method: "POST" | "DELETE" | "PUT", path: string, body?: unknown): Promise<T>;
}

async function toError(res: Response): Promise<ApiError> {
  let body: unknown;
  try {
    body = await res.json();
  } catch {
    body = undefined;
  }
  const e = (body as { error?: { code?: unknown; message?: unknown; details?: unknown } } | undefined)?.error;
  if (e && typeof e.code === "string" && typeof e.message === "string")
    return new ApiError(res.status, e.code, e.message, Array.isArray(e.details) ? e.details : undefined);
  return new ApiError(res.status, "HTTP_ERROR", answerWords(res.status));
}

/**
 * What a failed answer without the contract's error body (a proxy's page, a crash) means to the
 * person at the console, and what to do: never a bare status code or HTTP term.
 */
export function answerWords(status: number): string {
  if (status === 401) return "The coordinator did not accept the admin token. Sign in again.";
  if (status === 403) return "The coordinator does not allow this with this admin token.";
  if (status === 404)
    return "The coordinator does not know this request: it may run an older muster than this page. Reload the page.";
  if (status === 429) return "The coordinator is busy with too many requests. Wait a moment and try again.";
  if (status === 502 || status === 503 || status === 504)
    return "Something between this page and the coordinator (a proxy or load balancer) could not reach it. Check that the coordinator runs (systemctl status muster-coordinator).";
  if (status >= 500)
    return "The coordinator failed while answering. See its log (journalctl -u muster-coordinator) and try again.";
  return "The coordinator refused the request without saying why. See its log (journalctl -u muster-coordinator).";
}

/** The coordinator could not be reached at all (no answer, connection cut). */
export const UNREACHABLE =
  "Cannot reach the coordinator: check that it runs (systemctl status muster-coordinator) and that this machine can reach its address.";

export function createApi(token: string, fetchImpl: Fetch = (i, init) => fetch(i, init)): Api {
  async function call(method: string, path: string, body?: unknown, signal?: AbortSignal) {
    const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: "application/json" };
    if (body !== undefined) headers["content-type"] = "application/json";
    let res: Response;
    try {
      res = await fetchImpl(path, {
        method,
        headers,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        ...(signal ? { signal } : {}),
        cache: "no-store",
        credentials: "omit",
      });
    } catch (err) {
      if ((err as Error).name === "AbortError") throw err;
      throw new ApiError(0, "NETWORK", UNREACHABLE);
    }
    return res;
  }
  async function json<T>(res: Response): Promise<T> {
    if (res.status === 204) return undefined as T;
    return (await res.json()) as T;
  }
  return {
    async get(path, signal) {
      const res = await call("GET", path, undefined, signal);
      if (!res.ok) throw await toError(res);
      return json(res);
    },
    async getIfPresent(path, signal) {
      const res = await call("GET", path, undefined, signal);
      if (res.status === 404) return null;
      if (!res.ok) throw await toError(res);
      return json(res);
    },
    async send(method, path, body) {
      const res = await call(method, path, body);
      if (!res.ok) throw await toError(res);
      return json(res);
    },
  };
}

export function isUnauthorized(err: unknown): boolean {
  return err instanceof ApiError && err.status === 401;
}
