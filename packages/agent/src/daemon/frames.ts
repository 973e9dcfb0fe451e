import {
  type CoordinatorFrame,
  CoordinatorFrameSchema,
  issuesToDetails,
  MAX_FRAME_BYTES,
} from "@muster/shared";

// Coordinator frames are parsed strictly; anything else is refused with a reason that names the bad
// fields but never echoes values (a malformed plan frame could still carry the token).
export type ParsedFrame =
  | { ok: true; frame: CoordinatorFrame }
  | { ok: false; reason: string; type?: string };

export function parseCoordinatorFrame(data: unknown): ParsedFrame {
  const text = Buffer.isBuffer(data)
    ? data.toString("utf8")
    : Array.isArray(data)
      ? Buffer.concat(data as Buffer[]).toString("utf8")
      : data instanceof ArrayBuffer
        ? Buffer.from(data).toString("utf8")
        : String(data);
  if (text.length > MAX_FRAME_BYTES) return { ok: false, reason: "frame too large" };
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return { ok: false, reason: "frame is not JSON" };
  }
  const type =
    doc !== null && typeof doc === "object" && typeof (doc as { type?: unknown }).type === "string"
      ? String((doc as { type: string }).type).slice(0, 64)
      : undefined;
  const parsed = CoordinatorFrameSchema.safeParse(doc);
  if (parsed.success) return { ok: true, frame: parsed.data };
  const details = issuesToDetails(parsed.error.issues)
    .slice(0, 5)
    .map((d) => `${d.path}: ${d.message}`)
    .join("; ");
  return {
    ok: false,
    reason: type ? `invalid ${type} frame: ${details}` : `unknown frame: ${details}`,
    type,
  };
}
