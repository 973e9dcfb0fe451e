import { STATUS_CODES } from "node:http";
import type { Socket } from "node:net";
import type { ErrorBody, ErrorCode } from "@muster/shared";
import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";

// The front door (docs/reference.md#errors): every answer below the router is in the contract's
// shape too. Node's own HTTP parser errors (garbage, headers too large, a timed-out request) never
// reach fastify's error handler, so clientErrorHandler writes them; fastify's routing errors (a bad
// URL, a path parameter over the limit) come through frameworkErrors. Input nesting is bounded where
// it enters: JSON deeper than MAX_JSON_DEPTH is refused before any schema or recursive helper sees it.

/** Deeper than any real muster body or frame needs; far below what would exhaust the stack. */
export const MAX_JSON_DEPTH = 64;

/** Headers (all together) above this answer 431: enough for a bearer token and a browser's cookies. */
export const MAX_HEADER_BYTES = 16 * 1024;

/** The deepest nesting of arrays and objects in `value`, counted without recursion. */
export function jsonDepth(value: unknown, stopAt = Number.POSITIVE_INFINITY): number {
  let deepest = 0;
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== "object") continue;
    if (depth > deepest) deepest = depth;
    if (deepest > stopAt) return deepest;
    for (const child of Object.values(v as Record<string, unknown>)) stack.push([child, depth + 1]);
  }
  return deepest;
}

function errorBody(code: ErrorCode, message: string): string {
  const body: ErrorBody = { error: { code, message } };
  return JSON.stringify(body);
}

/** What a connection-level parser error becomes: status, code and a message naming the problem. */
export function clientErrorResponse(err: { code?: string }): {
  status: number;
  code: ErrorCode;
  message: string;
} {
  switch (err.code) {
    case "HPE_HEADER_OVERFLOW":
      return {
        status: 431,
        code: "VALIDATION_FAILED",
        message: `request headers larger than ${MAX_HEADER_BYTES} bytes`,
      };
    case "ERR_HTTP_REQUEST_TIMEOUT":
    case "ERR_HTTP_HEADERS_TIMEOUT":
      return { status: 408, code: "VALIDATION_FAILED", message: "request not received in time" };
    default:
      return { status: 400, code: "VALIDATION_FAILED", message: "malformed HTTP request" };
  }
}

/** fastify's clientErrorHandler: a contract-shaped answer, then the socket is closed. */
export function clientErrorHandler(err: Error & { code?: string }, socket: Socket): void {
  if (err.code === "ECONNRESET" || socket.destroyed) return;
  const { status, code, message } = clientErrorResponse(err);
  const body = errorBody(code, message);
  if (socket.writable)
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  socket.destroy();
}

/** fastify's frameworkErrors: routing-level failures, answered like every other error. */
export function frameworkErrors(err: FastifyError, _req: FastifyRequest, reply: FastifyReply): void {
  const status =
    typeof err.statusCode === "number" && err.statusCode >= 400 && err.statusCode < 500
      ? err.statusCode
      : 400;
  const message =
    err.code === "FST_ERR_BAD_URL"
      ? "the URL is not valid (bad percent-encoding)"
      : status === 414
        ? "a path parameter is longer than 1024 characters"
        : "the request could not be routed";
  reply.code(status).type("application/json; charset=utf-8").send(errorBody("VALIDATION_FAILED", message));
}
