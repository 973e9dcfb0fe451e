import { OperationListSchema, type OperationView, Rke2VersionSchema } from "@muster/shared";
import { UsageError } from "./args.ts";
import type { CommandContext } from "./commands.ts";
import { ago, table } from "./format.ts";

// `muster upgrade status` (docs/reference.md#upgrades): the upgrade in flight, else the newest one
// that ended, read from GET /v1/operations. It exits 0 whenever the coordinator answered, whatever
// the upgrade's state (also when none ever ran): the state is in the output, `.state` with -o json.

const inFlight = (op: OperationView) => op.state === "pending" || op.state === "running";

/** The upgrade to show: the newest one in flight, else the newest one that ended; undefined if none. */
export function latestUpgrade(operations: readonly OperationView[]): OperationView | undefined {
  // The API lists newest first; sorted again on createdAt (stable) so the choice never rests on it.
  const upgrades = operations
    .filter((op) => op.type === "upgrade")
    .sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
  return upgrades.find(inFlight) ?? upgrades[0];
}

/**
 * The version an upgrade goes to. The operation view has no field for it; every step an upgrade
 * plans names it ("snapshot etcd before the upgrade to V", "upgrade server S to V (...)").
 */
export function upgradeTarget(op: OperationView): string | undefined {
  for (const step of op.steps) {
    for (const m of step.name.matchAll(/\bto (v\S+?)(?=[\s,;)]|$)/g)) {
      if (Rke2VersionSchema.safeParse(m[1]).success) return m[1];
    }
  }
  return undefined;
}

const when = (iso: string, now: number) => `${iso.replace("T", " ").slice(0, 16)} (${ago(iso, now)})`;

export function formatUpgrade(op: OperationView, now: number): string {
  const n = op.steps.length;
  const at = (i: number) => `step ${i + 1} of ${n}: ${op.steps[i]!.name}`;
  let state: string = op.state;
  if (inFlight(op)) {
    const running = op.steps.findIndex((s) => s.state === "running");
    const next = op.steps.findIndex((s) => s.state === "pending");
    if (running >= 0) state += `, on ${at(running)}`;
    else if (next >= 0) state += `, next ${at(next)}`;
  } else if (op.state === "failed") {
    const failed = op.steps.findIndex((s) => s.state === "failed");
    if (failed >= 0) state += ` at ${at(failed)}`;
  } else {
    const skipped = op.steps.filter((s) => s.state === "skipped").length;
    state += ` (${n} step${n === 1 ? "" : "s"}${skipped ? `, ${skipped} skipped` : ""})`;
  }
  const lines: string[] = [];
  const field = (label: string, text: string) => lines.push(`${`${label}:`.padEnd(12)}${text}`);
  field("upgrade", `${op.id} to ${upgradeTarget(op) ?? "(version not named in its steps)"}`);
  field("state", state);
  // In flight, the reason is what it waits for ("held: server(s) not ready: s2"); ended, why it failed.
  if (op.reason) field(inFlight(op) ? "waiting" : "reason", op.reason);
  field("requested", `${when(op.createdAt, now)}${op.requestedBy ? ` from ${op.requestedBy}` : ""}`);
  if (op.startedAt) field("started", when(op.startedAt, now));
  if (op.endedAt) field("ended", when(op.endedAt, now));
  if (n > 0) {
    const rows = op.steps.map((s, i) => [
      String(i + 1),
      s.state,
      s.name,
      [s.message, s.attempts && s.attempts > 1 ? `attempt ${s.attempts}` : ""].filter(Boolean).join("; "),
    ]);
    lines.push("", table(["#", "STATE", "STEP", "MESSAGE"], rows));
  }
  return lines.join("\n");
}

export const NO_UPGRADE =
  "no upgrade has run on this cluster (start one with `muster upgrade --version vX.Y.Z+rke2rN`)";

/** `muster upgrade status [-o json]`; -o json prints the operation as the API has it, or `null`. */
export async function upgradeStatus(ctx: CommandContext, printJson: boolean): Promise<void> {
  if (ctx.positionals.length > 1) throw new UsageError(`unexpected argument ${ctx.positionals[1]}`);
  for (const flag of ["version", "drain", "no-wait"])
    if (ctx.values[flag] !== undefined)
      throw new UsageError(`upgrade status takes no --${flag} (it only reads the latest upgrade)`);
  const { operations } = await ctx.client.request("GET", "/v1/operations", OperationListSchema);
  const op = latestUpgrade(operations);
  if (printJson) return ctx.out(JSON.stringify(op ?? null, null, 2));
  ctx.out(op ? formatUpgrade(op, ctx.now()) : NO_UPGRADE);
}
