import {
  type AgentFrame,
  AgentFrameSchema,
  CloseCodes,
  issuesToDetails,
  MAX_FRAME_BYTES,
  MusterError,
} from "@muster/shared";
import { WebSocket } from "ws";
import { jsonProblem } from "../http/errors.ts";
import { jsonDepth, MAX_JSON_DEPTH } from "../http/hardening.ts";

// The wire rules of /v1/agent, apart from connection bookkeeping (hub.ts): how a text frame is
// parsed, which close code answers which failure, and how long a close reason may be.

const MAX_REASON_BYTES = 123;
const FRAME_TYPES = new Set<string>(AgentFrameSchema.options.map((o) => o.shape.type.value));

/** Close reasons are capped at 123 bytes by RFC 6455; cut on a character boundary. */
export function truncateReason(reason: string): string {
  if (Buffer.byteLength(reason) <= MAX_REASON_BYTES) return reason;
  let out = reason.slice(0, MAX_REASON_BYTES);
  while (Buffer.byteLength(`${out}…`) > MAX_REASON_BYTES) out = out.slice(0, -1);
  return `${out}…`;
}

/** ws closes oversized frames with 1009 and no reason; muster answers every bad frame alike. */
export class AgentSocket extends WebSocket {
  /** Set by the hub while the socket is unauthenticated: the smaller limit its reader enforces. */
  preAuthLimit: number | null = null;
  override close(code?: number, data?: string | Buffer): void {
    if (code !== 1009) {
      super.close(code, data);
      return;
    }
    const reason =
      this.preAuthLimit === null
        ? `frame larger than ${MAX_FRAME_BYTES} bytes`
        : `first frame larger than ${this.preAuthLimit} bytes`;
    super.close(CloseCodes.BAD_FRAME, reason);
  }
}

type Parsed = { ok: true; frame: AgentFrame } | { ok: false; reason: string };

/** Parses one text frame; the failure reason names the problem (never echoes the frame). */
export function parseAgentFrame(text: string): Parsed {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return { ok: false, reason: `invalid JSON: ${jsonProblem(err as Error)}` };
  }
  if (jsonDepth(json, MAX_JSON_DEPTH) > MAX_JSON_DEPTH)
    return { ok: false, reason: `a frame may nest at most ${MAX_JSON_DEPTH} levels` };
  const type = (json as { type?: unknown } | null)?.type;
  if (typeof json !== "object" || json === null || Array.isArray(json) || typeof type !== "string")
    return { ok: false, reason: 'a frame must be a JSON object with a string "type"' };
  if (!FRAME_TYPES.has(type))
    return { ok: false, reason: `unknown frame type ${JSON.stringify(type.slice(0, 32))}` };
  const result = AgentFrameSchema.safeParse(json);
  if (result.success) return { ok: true, frame: result.data };
  const details = issuesToDetails(result.error.issues).map((d) => `${d.path}: ${d.message}`);
  return { ok: false, reason: `bad ${type} frame: ${details.join("; ")}` };
}

/** The close reason of a machine waiting for approval: short enough to survive the 123-byte cap. */
export function pendingReason(err: { message: string }): string {
  const node = /node (\S+)/.exec(err.message)?.[1] ?? "";
  return `PENDING_APPROVAL: waiting for \`muster nodes approve ${node}\``;
}

export interface Refusal {
  code: number;
  reason: string;
}

/** Close code for an error thrown by the domain; only a MusterError's message is shown. */
export function closeFor(err: unknown): Refusal {
  if (!(err instanceof MusterError)) return { code: 1011, reason: "internal error" };
  if (err.code === "PENDING_APPROVAL")
    return { code: CloseCodes.PENDING_APPROVAL, reason: pendingReason(err) };
  const code =
    err.status === 401 || err.status === 404
      ? CloseCodes.UNAUTHORIZED
      : err.status === 403
        ? CloseCodes.FORBIDDEN
        : err.status === 409
          ? CloseCodes.CONFLICT
          : err.status === 400
            ? CloseCodes.BAD_FRAME
            : 1011;
  return { code, reason: `${err.code}: ${err.message}` };
}
