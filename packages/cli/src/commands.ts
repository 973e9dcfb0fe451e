import { setTimeout as sleep } from "node:timers/promises";
import {
  BackupListSchema,
  ClusterViewSchema,
  EventsPageSchema,
  JoinTokenCreatedSchema,
  MAX_JOIN_TOKEN_TTL,
  NodeNameParamSchema,
  NodeViewSchema,
  OperationAcceptedSchema,
  PlanViewSchema,
  Rke2VersionSchema,
  SnapshotNameSchema,
  SnapshotPrefixSchema,
} from "@muster/shared";
import { z } from "zod";
import { approveNode, joinTokens } from "./access-commands.ts";
import { type OptionSpecs, UsageError } from "./args.ts";
import { ApiError, type ClientOptions, type OperatorClient } from "./client.ts";
import { dayTwoCommands } from "./day-two-commands.ts";
import { formatEvent, formatNodes, formatPlan, formatStatus } from "./format.ts";
import { followOperation } from "./operation-follow.ts";
import { upgradeStatus } from "./upgrade-status.ts";

// The subcommands: each one REST call (or a poll loop), its answer validated by the shared schema,
// printed as text or, with -o json, as the coordinator's JSON.

export interface CommandContext {
  client: OperatorClient;
  /** Where and how the client connects (flags, env, stored config, defaults resolved). */
  connection: ClientOptions;
  env: NodeJS.ProcessEnv;
  positionals: string[];
  values: Record<string, string | boolean | undefined>;
  out: (text: string) => void;
  err: (text: string) => void;
  now: () => number;
  signal: AbortSignal;
  /** Poll interval of `events --follow` */
  followIntervalMs: number;
}

export interface Command {
  summary: string;
  usage: string;
  /** More for `muster <command> --help`, after the summary (sub-words, exit codes). */
  notes?: string;
  options: OptionSpecs;
  run(ctx: CommandContext): Promise<void>;
}

export const OUTPUT: OptionSpecs = {
  output: { type: "string", short: "o", value: "text|json", help: "output format (default text)" },
};

export function json(ctx: CommandContext): boolean {
  const o = ctx.values["output"] ?? "text";
  if (o !== "text" && o !== "json")
    throw new UsageError(`-o/--output: must be text or json, got ${String(o)}`);
  return o === "json";
}

export function noPositionals(ctx: CommandContext, max = 0): void {
  if (ctx.positionals.length > max) throw new UsageError(`unexpected argument ${ctx.positionals[max]}`);
}

function intFlag(ctx: CommandContext, name: string, min: number, max: number): number | undefined {
  const raw = ctx.values[name];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!/^\d+$/.test(String(raw)) || n < min || n > max) {
    throw new UsageError(`--${name}: must be a whole number from ${min} to ${max}, got ${String(raw)}`);
  }
  return n;
}

export const print = (ctx: CommandContext, data: unknown, text: () => string) =>
  ctx.out(json(ctx) ? JSON.stringify(data, null, 2) : text());

export const COMMANDS: Record<string, Command> = {
  backup: {
    summary: "take an etcd snapshot now on one joined server (a backup operation)",
    usage: "muster backup [--name N] [-o json]",
    options: {
      name: { type: "string", value: "N", help: "snapshot name prefix (RKE2: N-<node>-<unix time>)" },
      ...OUTPUT,
    },
    async run(ctx) {
      noPositionals(ctx);
      json(ctx);
      const name = ctx.values["name"];
      if (name !== undefined && !SnapshotPrefixSchema.safeParse(name).success)
        throw new UsageError(`--name: must be lowercase letters, digits and '-', got ${String(name)}`);
      const body = name === undefined ? {} : { name: String(name) };
      const accepted = await ctx.client.request("POST", "/v1/backups", OperationAcceptedSchema, body);
      print(
        ctx,
        accepted,
        () =>
          `backup started: operation ${accepted.operation.id} (muster: GET /v1/operations/${accepted.operation.id})`,
      );
    },
  },
  backups: {
    summary: "the etcd snapshots the servers hold, local and in S3",
    usage: "muster backups [-o json]",
    options: OUTPUT,
    async run(ctx) {
      noPositionals(ctx);
      json(ctx);
      const list = await ctx.client.request("GET", "/v1/backups", BackupListSchema);
      print(ctx, list, () => {
        const rows = [["NAME", "NODE", "LOCATION", "SIZE", "CREATED"]];
        for (const b of list.backups) rows.push([b.name, b.node, b.location, String(b.size), b.createdAt]);
        const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
        const table = rows
          .map((r) =>
            r
              .map((c, i) => c.padEnd(widths[i]!))
              .join("  ")
              .trimEnd(),
          )
          .join("\n");
        const warnings = (list.warnings ?? []).map((w) => `warning: ${w}`).join("\n");
        return list.backups.length === 0
          ? `no snapshots${warnings ? `\n${warnings}` : ""}`
          : `${table}${warnings ? `\n${warnings}` : ""}`;
      });
    },
  },
  restore: {
    summary: "restore etcd from a snapshot (stops every server; rejoins them one at a time)",
    usage: "muster restore SNAPSHOT --yes [--no-wait] [-o json]",
    options: {
      yes: { type: "boolean", help: "confirm: the cluster goes back to the snapshot's state" },
      "no-wait": { type: "boolean", help: "print the operation and return once it is accepted" },
      ...OUTPUT,
    },
    async run(ctx) {
      noPositionals(ctx, 1);
      json(ctx);
      const snapshot = ctx.positionals[0];
      if (snapshot === undefined) throw new UsageError("restore needs a SNAPSHOT name (see muster backups)");
      if (!SnapshotNameSchema.safeParse(snapshot).success)
        throw new UsageError(`SNAPSHOT: not a snapshot name: ${snapshot}`);
      if (ctx.values["yes"] !== true)
        throw new UsageError(
          "restore stops rke2-server on every server and returns etcd to the snapshot; add --yes to go on",
        );
      const accepted = await ctx.client.request("POST", "/v1/restores", OperationAcceptedSchema, {
        snapshot,
      });
      const id = accepted.operation.id;
      if (ctx.values["no-wait"]) {
        print(
          ctx,
          accepted,
          () => `restore from ${snapshot} started: operation ${id} (muster: GET /v1/operations/${id})`,
        );
        return;
      }
      ctx.err(`muster: restoring from ${snapshot} (operation ${id})`);
      const op = await followOperation(ctx, id);
      if (json(ctx)) ctx.out(JSON.stringify(op, null, 2));
      if (op.state === "failed") throw new ApiError(`restore failed: ${op.reason ?? "no reason given"}`);
      if (!json(ctx)) ctx.out(`etcd restored from ${snapshot} (operation ${id})`);
    },
  },
  upgrade: {
    summary:
      "rolling RKE2 upgrade: servers one at a time, then agents; waits until it ends; `status` shows the latest",
    usage:
      "muster upgrade --version vX.Y.Z+rke2rN [--drain] [--no-wait] [-o json] | muster upgrade status [-o json]",
    notes: [
      "`muster upgrade --version V` exits 0 once the cluster is upgraded, 1 when it is refused or fails.",
      "`muster upgrade status` shows the upgrade in flight, else the newest one that ended: its target",
      "version, state, the step it is on, each step's state and message, and what it waits for (e.g.",
      '"held: server(s) not ready: s2") or why it failed. It exits 0 whenever the coordinator answers,',
      "whatever the upgrade's state and also when none ever ran; read the state from the output",
      "(`muster upgrade status -o json | jq -r .state`). -o json prints the operation as",
      "GET /v1/operations/:id has it, or null when no upgrade has run.",
    ].join("\n"),
    options: {
      version: {
        type: "string",
        value: "vX.Y.Z+rke2rN",
        help: "the RKE2 version to upgrade to (at most one minor ahead)",
      },
      drain: { type: "boolean", help: "drain each node before its upgrade" },
      "no-wait": { type: "boolean", help: "print the operation and return once it is accepted" },
      ...OUTPUT,
    },
    async run(ctx) {
      if (ctx.positionals[0] === "status") return upgradeStatus(ctx, json(ctx));
      if (ctx.positionals[0] !== undefined)
        throw new UsageError(`unknown upgrade action ${ctx.positionals[0]} (actions: status)`);
      const version = ctx.values["version"];
      if (typeof version !== "string")
        throw new UsageError("upgrade needs --version vX.Y.Z+rke2rN (or: muster upgrade status)");
      if (!Rke2VersionSchema.safeParse(version).success)
        throw new UsageError(`--version: not an RKE2 version (like v1.33.5+rke2r1): ${version}`);
      const accepted = await ctx.client.request("POST", "/v1/upgrades", OperationAcceptedSchema, {
        version,
        drain: ctx.values["drain"] === true,
      });
      const id = accepted.operation.id;
      if (ctx.values["no-wait"]) {
        print(
          ctx,
          accepted,
          () => `upgrade to ${version} started: operation ${id} (muster: GET /v1/operations/${id})`,
        );
        return;
      }
      ctx.err(`muster: upgrading to ${version} (operation ${id})`);
      const op = await followOperation(ctx, id);
      if (json(ctx)) ctx.out(JSON.stringify(op, null, 2));
      if (op.state === "failed") throw new ApiError(`upgrade failed: ${op.reason ?? "no reason given"}`);
      if (!json(ctx)) ctx.out(`cluster upgraded to ${version} (operation ${id})`);
    },
  },
  "agent-token": {
    summary:
      "`migrate`: move a legacy cluster to the agent token (servers, then agents); waits until it ends",
    usage: "muster agent-token migrate [--no-wait] [-o json]",
    options: {
      "no-wait": { type: "boolean", help: "print the operation and return once it is accepted" },
      ...OUTPUT,
    },
    async run(ctx) {
      if (ctx.positionals[0] !== "migrate") throw new UsageError("usage: muster agent-token migrate");
      noPositionals(ctx, 1);
      json(ctx);
      const accepted = await ctx.client.request(
        "POST",
        "/v1/agent-token/migration",
        OperationAcceptedSchema,
        {},
      );
      const id = accepted.operation.id;
      if (ctx.values["no-wait"]) {
        print(
          ctx,
          accepted,
          () => `agent-token migration started: operation ${id} (muster: GET /v1/operations/${id})`,
        );
        return;
      }
      ctx.err(`muster: moving the cluster to the agent token (operation ${id})`);
      const op = await followOperation(ctx, id);
      if (json(ctx)) ctx.out(JSON.stringify(op, null, 2));
      if (op.state === "failed")
        throw new ApiError(`agent-token migration failed: ${op.reason ?? "no reason given"}`);
      if (!json(ctx))
        ctx.out(`the cluster uses the agent token: agents hold only the agent credential (operation ${id})`);
    },
  },
  status: {
    summary: "cluster phase, servers and quorum, the join in flight, warnings",
    usage: "muster status [-o json]",
    options: OUTPUT,
    async run(ctx) {
      noPositionals(ctx);
      json(ctx);
      const cluster = await ctx.client.request("GET", "/v1/cluster", ClusterViewSchema);
      print(ctx, cluster, () => formatStatus(cluster, ctx.now()));
    },
  },
  nodes: {
    summary: "every node: role, state, address, when it joined, what it waits for; `approve NODE`",
    usage: "muster nodes [-o json] | muster nodes approve NODE [-o json]",
    options: OUTPUT,
    async run(ctx) {
      if (ctx.positionals[0] === "approve") return approveNode(ctx, json(ctx));
      noPositionals(ctx);
      json(ctx);
      const page = await ctx.client.request("GET", "/v1/nodes", z.object({ nodes: z.array(NodeViewSchema) }));
      print(ctx, page, () => formatNodes(page.nodes));
    },
  },
  "join-command": {
    summary: "create a join token and print the one-line bootstrap for a new node",
    usage: "muster join-command --role server|agent [--ttl SECONDS] [--max-uses N] [--replace] [-o json]",
    options: {
      role: { type: "string", value: "server|agent", help: "role the new node joins as (required)" },
      ttl: {
        type: "string",
        value: "SECONDS",
        help: `token lifetime, 60..${MAX_JOIN_TOKEN_TTL} (default 1 day)`,
      },
      "max-uses": { type: "string", value: "N", help: "admit at most N machines (1: a one-off server)" },
      replace: {
        type: "boolean",
        help: "let a machine take over a known node identity (same machine id) without approval",
      },
      ...OUTPUT,
    },
    async run(ctx) {
      noPositionals(ctx);
      const role = ctx.values["role"];
      if (role === undefined) throw new UsageError("--role is required (server or agent)");
      if (role !== "server" && role !== "agent")
        throw new UsageError(`--role: must be server or agent, got ${role}`);
      const ttlSeconds = intFlag(ctx, "ttl", 60, MAX_JOIN_TOKEN_TTL);
      const maxUses = intFlag(ctx, "max-uses", 1, 100000);
      json(ctx);
      const body = {
        role,
        ...(ttlSeconds === undefined ? {} : { ttlSeconds }),
        ...(maxUses === undefined ? {} : { maxUses }),
        ...(ctx.values["replace"] ? { replace: true } : {}),
      };
      const created = await ctx.client.request("POST", "/v1/join-tokens", JoinTokenCreatedSchema, body);
      if (json(ctx)) return ctx.out(JSON.stringify(created, null, 2));
      // stdout carries only the command, so `$(muster join-command ...)` is usable as is.
      ctx.out(created.command);
      ctx.err(`muster: join token ${created.id} (${created.role}) expires ${created.expiresAt}`);
    },
  },
  "join-tokens": {
    summary: "list join tokens (uses, last use, limits); `revoke ID` revokes one",
    usage: "muster join-tokens [-o json] | muster join-tokens revoke ID",
    options: OUTPUT,
    run: (ctx) => joinTokens(ctx, json(ctx)),
  },
  retry: {
    summary: "re-queue a failed or check-failed node",
    usage: "muster retry NODE [-o json]",
    options: OUTPUT,
    async run(ctx) {
      noPositionals(ctx, 1);
      const name = ctx.positionals[0];
      if (name === undefined) throw new UsageError("retry needs a NODE name");
      if (!NodeNameParamSchema.safeParse({ name }).success)
        throw new UsageError(`NODE: not a node name: ${name}`);
      json(ctx);
      const node = await ctx.client.request(
        "POST",
        `/v1/nodes/${encodeURIComponent(name)}/retry`,
        NodeViewSchema,
      );
      print(ctx, node, () => `node ${node.name} re-queued (state ${node.state})`);
    },
  },
  plan: {
    summary: "what every node not yet joined waits for, in order",
    usage: "muster plan [-o json]",
    options: OUTPUT,
    async run(ctx) {
      noPositionals(ctx);
      json(ctx);
      const plan = await ctx.client.request("GET", "/v1/plan", PlanViewSchema);
      print(ctx, plan, () => formatPlan(plan));
    },
  },
  events: {
    summary: "the cluster's event log; --follow keeps printing new events",
    usage: "muster events [--after SEQ] [--follow] [-o json]",
    options: {
      after: { type: "string", value: "SEQ", help: "only events after this sequence number" },
      follow: { type: "boolean", short: "f", help: "keep polling for new events until interrupted" },
      ...OUTPUT,
    },
    async run(ctx) {
      noPositionals(ctx);
      let after = intFlag(ctx, "after", 0, Number.MAX_SAFE_INTEGER) ?? 0;
      // -o json prints one event object per line (NDJSON), which also suits --follow.
      const line = json(ctx) ? (e: unknown) => JSON.stringify(e) : formatEvent;
      for (;;) {
        const page = await ctx.client.request(
          "GET",
          `/v1/events?after=${after}&limit=1000`,
          EventsPageSchema,
        );
        for (const e of page.events) ctx.out(line(e as never));
        after = Math.max(after, page.next);
        if (page.events.length === 1000) continue;
        if (!ctx.values["follow"]) return;
        try {
          await sleep(ctx.followIntervalMs, undefined, { signal: ctx.signal });
        } catch {
          return; // interrupted: a clean end of --follow
        }
      }
    },
  },
};

Object.assign(COMMANDS, dayTwoCommands({ output: OUTPUT, json, noPositionals }));
