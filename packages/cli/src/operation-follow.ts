import { setTimeout as sleep } from "node:timers/promises";
import { type OperationView, OperationViewSchema } from "@muster/shared";
import type { CommandContext } from "./commands.ts";

// Following a long operation (restore, upgrade) to its end: each step printed on stderr as it
// changes (`muster: <step>: <state> (<message>)`), the last view returned.

export async function followOperation(ctx: CommandContext, id: string): Promise<OperationView> {
  const printed = new Map<number, string>();
  let reason = "";
  for (;;) {
    const op = await ctx.client.request(
      "GET",
      `/v1/operations/${encodeURIComponent(id)}`,
      OperationViewSchema,
    );
    op.steps.forEach((s, i) => {
      const line = `${s.name}: ${s.state}${s.message ? ` (${s.message})` : ""}`;
      if (printed.get(i) !== line && s.state !== "pending") ctx.err(`muster: ${line}`);
      printed.set(i, line);
    });
    if (op.state === "succeeded" || op.state === "failed") return op;
    // A held operation says why (e.g. an upgrade waiting for a server to be ready).
    if (op.reason && op.reason !== reason) ctx.err(`muster: waiting: ${op.reason}`);
    reason = op.reason ?? "";
    await sleep(ctx.followIntervalMs, undefined, { signal: ctx.signal });
  }
}
