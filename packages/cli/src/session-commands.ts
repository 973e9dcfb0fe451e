import { readFileSync } from "node:fs";
import { ClusterViewSchema, JoinTokenInfoSchema, TokenIdParamSchema } from "@muster/shared";
import { z } from "zod";
import { UsageError } from "./args.ts";
import { type Command, json, noPositionals, OUTPUT, print } from "./commands.ts";
import { saveConfig } from "./config-file.ts";
import { table } from "./format.ts";

// Subcommands about the operator's session and credentials: `login` (remembers where the
// coordinator is), `join-tokens` (list and revoke). Kept apart from commands.ts, which holds the
// cluster views.

const TokensSchema = z.object({ tokens: z.array(JoinTokenInfoSchema) });

function tokenState(t: z.output<typeof JoinTokenInfoSchema>): string {
  return t.revoked ? "revoked" : t.expired ? "expired" : "valid";
}

export const SESSION_COMMANDS: Record<string, Command> = {
  login: {
    summary: "check and remember the coordinator, how to trust it and the admin token",
    usage: "muster login --server URL (--pin sha256//... | --ca-file FILE) [--token-file FILE] [-o json]",
    options: OUTPUT,
    async run(ctx) {
      noPositionals(ctx);
      json(ctx);
      const server = ctx.values["server"];
      if (typeof server !== "string") throw new UsageError("login needs --server URL");
      const pin = ctx.values["pin"];
      const caFile = ctx.values["ca-file"];
      if (typeof pin !== "string" && typeof caFile !== "string")
        throw new UsageError(
          "login needs --pin sha256//... or --ca-file FILE to know how to trust the coordinator",
        );
      const { token } = ctx.connection;
      if (!token)
        throw new UsageError("login needs the admin token: --token-file FILE (mode 0600) or MUSTER_TOKEN");
      // Nothing is written unless the coordinator is reached, trusted and takes the token.
      const cluster = await ctx.client.request("GET", "/v1/cluster", ClusterViewSchema);
      const file = saveConfig(ctx.env, {
        server: ctx.connection.server.origin,
        ...(typeof pin === "string" ? { pin } : { ca: readFileSync(caFile as string, "utf8") }),
        token,
      });
      print(
        ctx,
        { server: ctx.connection.server.origin, cluster: cluster.name, phase: cluster.phase, config: file },
        () =>
          `logged in to ${ctx.connection.server.origin} (cluster ${cluster.name}, ${cluster.phase}); ` +
          `saved to ${file}: later commands need no flags`,
      );
    },
  },
  "join-tokens": {
    summary: "list join tokens (no secrets); `join-tokens revoke ID` revokes one",
    usage: "muster join-tokens [revoke ID] [-o json]",
    options: OUTPUT,
    async run(ctx) {
      json(ctx);
      const [verb, id] = ctx.positionals;
      if (verb === undefined) {
        const page = await ctx.client.request("GET", "/v1/join-tokens", TokensSchema);
        return print(ctx, page, () =>
          page.tokens.length === 0
            ? "no join tokens (muster join-command --role server|agent makes one)"
            : table(
                ["ID", "ROLE", "STATE", "USES", "CREATED", "EXPIRES"],
                page.tokens.map((t) => [
                  t.id,
                  t.role,
                  tokenState(t),
                  String(t.uses),
                  t.createdAt,
                  t.expiresAt,
                ]),
              ),
        );
      }
      if (verb !== "revoke") throw new UsageError(`unknown join-tokens action ${verb} (only: revoke ID)`);
      noPositionals(ctx, 2);
      if (id === undefined)
        throw new UsageError("join-tokens revoke needs the token ID (see muster join-tokens)");
      if (!TokenIdParamSchema.safeParse({ id }).success)
        throw new UsageError(`ID: not a join token id (6 lowercase letters or digits): ${id}`);
      await ctx.client.request("DELETE", `/v1/join-tokens/${id}`, z.undefined());
      print(ctx, { revoked: id }, () => `join token ${id} revoked: it enrols no more machines`);
    },
  },
};
