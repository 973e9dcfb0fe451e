import type { MusterEvent } from "@muster/shared";

// The event stream as the page keeps it: the newest first, capped, each seq once.
export const EVENTS_SHOWN = 200;

export function mergeEvents(
  shown: readonly MusterEvent[],
  incoming: readonly MusterEvent[],
  cap = EVENTS_SHOWN,
): MusterEvent[] {
  if (incoming.length === 0) return shown as MusterEvent[];
  const seen = new Set(shown.map((e) => e.seq));
  const fresh = incoming.filter((e) => !seen.has(e.seq));
  return [...fresh, ...shown].sort((a, b) => b.seq - a.seq).slice(0, cap);
}

/** Tone of an event line (words carry the meaning; this is a hint). */
export function eventTone(type: string): "ok" | "bad" | "muted" {
  if (type === "node.join.succeeded" || type === "node.checks.passed") return "ok";
  if (type.endsWith(".failed") || type === "cluster.token.refused") return "bad";
  return "muted";
}
