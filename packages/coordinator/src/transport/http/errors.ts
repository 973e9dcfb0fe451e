import {
  BodyTooLarge,
  ContentLengthMismatch,
  EmptyJsonBody,
  type ErrorBody,
  type ErrorCode,
  ErrorCodes,
  InvalidJson,
  InvalidRequest,
  issuesToDetails,
  MusterError,
  type MusterErrorClass,
  NoSuchEndpoint,
  UnsupportedMediaType,
} from "@muster/shared";
import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { ZodError } from "zod";

// The one place an error becomes a response: {"error":{"code","message","details"?}}. Expected
// failures (MusterError, zod, fastify's own 4xx) keep their message; anything else is a 5xx with a
// generic message and the request id, and the real error only goes to the log.

/** fastify's own content errors, as catalogue errors. */
const FASTIFY_ERRORS: Record<string, MusterErrorClass<[]>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: BodyTooLarge,
  FST_ERR_CTP_INVALID_MEDIA_TYPE: UnsupportedMediaType,
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: ContentLengthMismatch,
  FST_ERR_CTP_EMPTY_JSON_BODY: EmptyJsonBody,
};

/** What is wrong with unparsable JSON, in words that do not echo the input. */
export function jsonProblem(err: Error): string {
  const at = /position (\d+)/.exec(err.message)?.[1];
  if (/prototype|__proto__|constructor/i.test(err.message))
    return "a forbidden key (__proto__ or constructor)";
  if (/end of (JSON )?input/i.test(err.message)) return "unexpected end of input";
  return at === undefined ? "syntax error" : `syntax error at position ${at}`;
}

function codeForStatus(status: number): ErrorCode {
  const found = Object.entries(ErrorCodes).find(([, v]) => v.status === status);
  return (found?.[0] as ErrorCode | undefined) ?? (status >= 500 ? "INTERNAL" : "VALIDATION_FAILED");
}

export function toErrorResponse(
  err: unknown,
  reqId: string,
): { status: number; body: ErrorBody; internal: boolean } {
  if (err instanceof MusterError) return { status: err.status, body: err.toBody(), internal: false };
  if (err instanceof ZodError) {
    const e = new InvalidRequest(issuesToDetails(err.issues));
    return { status: 400, body: e.toBody(), internal: false };
  }
  const fe = err as Partial<FastifyError>;
  const Known = fe.code ? FASTIFY_ERRORS[fe.code] : undefined;
  if (Known) {
    const e = new Known();
    return { status: e.status, body: e.toBody(), internal: false };
  }
  if (err instanceof SyntaxError || fe.code === "FST_ERR_CTP_INVALID_JSON_BODY") {
    // Never the parser's own message: it quotes the bad input back.
    const e = new InvalidJson(jsonProblem(err as Error));
    return { status: 400, body: e.toBody(), internal: false };
  }
  const status = typeof fe.statusCode === "number" ? fe.statusCode : 500;
  if (status >= 400 && status < 500) {
    // fastify's own client errors (bad URL, ...): their messages describe the request, not internals.
    const code = codeForStatus(status);
    return {
      status,
      body: { error: { code, message: fe.message ?? ErrorCodes[code].message } },
      internal: false,
    };
  }
  const message = `${ErrorCodes.INTERNAL.message} (request id ${reqId})`;
  return { status: 500, body: { error: { code: "INTERNAL", message } }, internal: true };
}

export function errorHandler(err: FastifyError, req: FastifyRequest, reply: FastifyReply): void {
  const { status, body, internal } = toErrorResponse(err, req.id);
  if (internal) req.log.error({ err, reqId: req.id }, "request failed");
  else req.log.debug({ code: body.error.code, status }, "request refused");
  reply.code(status).type("application/json; charset=utf-8").send(body);
}

export function notFoundHandler(req: FastifyRequest, reply: FastifyReply): void {
  const path = req.url.split("?")[0] ?? "";
  const e = new NoSuchEndpoint(req.method, path);
  reply.code(404).send(e.toBody());
}
