import { setTimeout as sleep } from "node:timers/promises";
import {
  NodeNameParamSchema,
  OperationAcceptedSchema,
  type OperationView,
  OperationViewSchema,
  type WhatIfView,
  WhatIfViewSchema,
} from "@muster/shared";
import { UsageError } from "./args.ts";
import { ApiError } from "./client.ts";
import type { Command, CommandContext } from "./commands.ts";
import { table } from "./format.ts";

// Day-two subcommands: `muster whatif` and `muster remove` (docs/reference.md#removing-a-node). They
// are handed the shared helpers of commands.ts, which lists them, so neither module imports the
// other's values.

export interface CommandKit {
  output: Command["options"];
  json(ctx: CommandContext): boolean;
  noPositionals(ctx: CommandContext, max?: number): void;
}

export function formatWhatIf(view: WhatIfView): string {
  const rows = view.servers.map((s) => [
    s.node,
    s.ifLost.quorumKept ? "quorum kept" : "QUORUM LOST",
    String(s.ifLost.toleranceLeft),
  ]);
  const lines = [
    view.servers.length === 0
      ? "no etcd members yet"
      : table(["SERVER", "IF LOST NOW", "TOLERANCE LEFT"], rows),
  ];
  if (view.warnings.length > 0) lines.push("warnings:", ...view.warnings.map((w) => `  - ${w}`));
  return lines.join("\n");
}

function stepLine(op: OperationView): string[] {
  return op.steps.map((s) => `${s.name}: ${s.state}${s.message ? ` (${s.message})` : ""}`);
}

/** Waits for the operation to end, printing each step as it changes; returns its last view. */
async function follow(ctx: CommandContext, id: string): Promise<OperationView> {
  const printed = new Map<number, string>();
  for (;;) {
    const op = await ctx.client.request(
      "GET",
      `/v1/operations/${encodeURIComponent(id)}`,
      OperationViewSchema,
    );
    stepLine(op).forEach((line, i) => {
      if (printed.get(i) !== line && op.steps[i]!.state !== "pending") ctx.err(`muster: ${line}`);
      printed.set(i, line);
    });
    if (op.state === "succeeded" || op.state === "failed") return op;
    await sleep(ctx.followIntervalMs, undefined, { signal: ctx.signal });
  }
}

export function dayTwoCommands(kit: CommandKit): Record<string, Command> {
  return {
    whatif: {
      summary: "for each server, what losing it now would mean (quorum kept or lost, tolerance left)",
      usage: "muster whatif [-o json]",
      options: kit.output,
      async run(ctx) {
        kit.noPositionals(ctx);
        const json = kit.json(ctx);
        const view = await ctx.client.request("GET", "/v1/whatif", WhatIfViewSchema);
        ctx.out(json ? JSON.stringify(view, null, 2) : formatWhatIf(view));
      },
    },
    remove: {
      summary: "remove a node safely (quorum guard; --force for a lost node); waits until it is removed",
      usage: "muster remove NODE [--force] [--no-wait] [-o json]",
      options: {
        force: { type: "boolean", help: "remove a node that cannot be reached (lost); still quorum-guarded" },
        "no-wait": { type: "boolean", help: "print the operation and return once it is accepted" },
        ...kit.output,
      },
      async run(ctx) {
        kit.noPositionals(ctx, 1);
        const name = ctx.positionals[0];
        if (name === undefined) throw new UsageError("remove needs a NODE name");
        if (!NodeNameParamSchema.safeParse({ name }).success)
          throw new UsageError(`NODE: not a node name: ${name}`);
        const json = kit.json(ctx);
        const query = ctx.values["force"] ? "?force=true" : "";
        let waitingFor = "";
        let accepted: { id: string };
        for (;;) {
          try {
            ({ operation: accepted } = await ctx.client.request(
              "DELETE",
              `/v1/nodes/${encodeURIComponent(name)}${query}`,
              OperationAcceptedSchema,
            ));
            break;
          } catch (err) {
            // One control-plane change at a time: wait for the lease, saying who holds it.
            if (!(err instanceof ApiError) || err.code !== "OPERATION_IN_FLIGHT") throw err;
            if (err.message !== waitingFor) ctx.err(`muster: waiting: ${err.message}`);
            waitingFor = err.message;
            await sleep(ctx.followIntervalMs, undefined, { signal: ctx.signal });
          }
        }
        if (ctx.values["no-wait"]) {
          ctx.out(
            json
              ? JSON.stringify({ operation: accepted }, null, 2)
              : `removal of ${name}: operation ${accepted.id}`,
          );
          return;
        }
        ctx.err(`muster: removing ${name} (operation ${accepted.id})`);
        const op = await follow(ctx, accepted.id);
        if (json) ctx.out(JSON.stringify(op, null, 2));
        if (op.state === "failed")
          throw new ApiError(`removal of ${name} failed: ${op.reason ?? "no reason given"}`);
        if (!json) ctx.out(`node ${name} removed (operation ${op.id})`);
      },
    },
  };
}
