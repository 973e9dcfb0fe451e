import { JoinTokenInfoSchema, NodeNameParamSchema, NodeViewSchema, TokenIdParamSchema } from "@muster/shared";
import { z } from "zod";
import { UsageError } from "./args.ts";
import type { CommandContext } from "./commands.ts";
import { table } from "./format.ts";

// Who may be a node: approving a machine that asks to take over a known node identity, and the join
// tokens that admit machines (docs/reference.md#join-tokens).

/** `muster nodes approve NODE`: the waiting machine may take over NODE. */
export async function approveNode(ctx: CommandContext, printJson: boolean): Promise<void> {
  if (ctx.positionals.length > 2) throw new UsageError(`unexpected argument ${ctx.positionals[2]}`);
  const name = ctx.positionals[1];
  if (name === undefined) throw new UsageError("nodes approve needs a NODE name");
  if (!NodeNameParamSchema.safeParse({ name }).success)
    throw new UsageError(`NODE: not a node name: ${name}`);
  const node = await ctx.client.request(
    "POST",
    `/v1/nodes/${encodeURIComponent(name)}/approve`,
    NodeViewSchema,
  );
  if (printJson) return ctx.out(JSON.stringify(node, null, 2));
  ctx.out(
    `node ${node.name}: machine ${node.claim?.hostname ?? "?"} (${node.claim?.address ?? "?"}) approved; it takes over when it next connects`,
  );
}

const TokensSchema = z.object({ tokens: z.array(JoinTokenInfoSchema) });

export function formatJoinTokens(tokens: readonly z.output<typeof JoinTokenInfoSchema>[]): string {
  if (tokens.length === 0) return "no join tokens: create one with `muster join-command --role server|agent`";
  const rows = tokens.map((k) => [
    k.id,
    k.role,
    k.revoked ? "revoked" : k.expired ? "expired" : "valid",
    k.expiresAt.replace("T", " ").slice(0, 16),
    k.maxUses === undefined ? String(k.uses) : `${k.uses}/${k.maxUses}`,
    k.lastUsedAt ? k.lastUsedAt.replace("T", " ").slice(0, 16) : "-",
    k.replace ? "replace" : "",
  ]);
  return table(["ID", "ROLE", "STATE", "EXPIRES", "USES", "LAST USED", "FLAGS"], rows);
}

/** `muster join-tokens` (list) and `muster join-tokens revoke ID`. */
export async function joinTokens(ctx: CommandContext, printJson: boolean): Promise<void> {
  const [verb, id, extra] = ctx.positionals;
  if (verb === undefined) {
    const page = await ctx.client.request("GET", "/v1/join-tokens", TokensSchema);
    return ctx.out(printJson ? JSON.stringify(page, null, 2) : formatJoinTokens(page.tokens));
  }
  if (verb !== "revoke") throw new UsageError(`unknown join-tokens action ${verb} (actions: revoke)`);
  if (extra !== undefined) throw new UsageError(`unexpected argument ${extra}`);
  if (id === undefined)
    throw new UsageError("join-tokens revoke needs the token ID (see muster join-tokens)");
  if (!TokenIdParamSchema.safeParse({ id }).success)
    throw new UsageError(`ID: not a join token id (6 lowercase letters or digits): ${id}`);
  await ctx.client.request("DELETE", `/v1/join-tokens/${id}`, z.unknown());
  ctx.out(printJson ? JSON.stringify({ revoked: id }) : `join token ${id} revoked`);
}
