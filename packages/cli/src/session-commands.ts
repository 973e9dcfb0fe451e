import { readFileSync } from "node:fs";
import { ClusterViewSchema } from "@muster/shared";
import { UsageError } from "./args.ts";
import { type Command, json, noPositionals, OUTPUT, print } from "./commands.ts";
import { saveConfig } from "./config-file.ts";

// Subcommands about the operator's session: `login` (remembers where the coordinator is). Join
// tokens are listed and revoked in access-commands.ts. Kept apart from commands.ts, which holds the
// cluster views.

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
};
