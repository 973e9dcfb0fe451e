// JSON merge patch (RFC 7386), what `kubectl cordon/annotate/label` send: objects merge recursively,
// null deletes a key, anything else replaces. (For the fields kubectl touches here, spec.unschedulable,
// metadata.labels and metadata.annotations, a strategic merge patch means the same.)

export function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== "object" || Array.isArray(patch)) return patch;
  const base: Record<string, unknown> =
    target !== null && typeof target === "object" && !Array.isArray(target)
      ? { ...(target as Record<string, unknown>) }
      : {};
  for (const [k, v] of Object.entries(patch as Record<string, unknown>)) {
    if (k === "__proto__" || k === "constructor" || k === "prototype") continue;
    if (v === null) delete base[k];
    else base[k] = mergePatch(base[k], v);
  }
  return base;
}
