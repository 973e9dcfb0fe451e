#!/usr/bin/env node
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { createLogger, isRfc1123Hostname } from "@muster/shared";
import { noPositionals, parseFlags, UsageError } from "@muster/shared/cli-args";
import { z } from "zod";
import pkg from "../../package.json" with { type: "json" };

// muster-coordinator: flags are parsed strictly (node:util parseArgs) and their values checked with
// zod, so a typo is one line naming the flag and exit 2, before anything on disk is touched.

const NAME = "muster-coordinator";

const USAGE = `Usage: ${NAME} <command> [flags]

Commands:
  serve       Run the coordinator: HTTPS REST API and the agents' WebSocket channel
  backup      Write the coordinator's own state (database, keys, admin token) to one file
  restore     Restore that file into a new state dir (same pin, same node identities)

Flags:
  -h, --help  Show help (also: ${NAME} serve --help)
  --version   Print the version
`;

const SERVE_USAGE = `Usage: ${NAME} serve [--config cluster.yaml] [--state-dir DIR] [--listen HOST:PORT]
                          [--advertise-url URL] [--tls-cert FILE --tls-key FILE]

Runs the coordinator. HTTPS always: without --tls-cert/--tls-key a CA and a serving certificate are
generated into DIR/tls on first start and reused afterwards (the serving key, and so the pin, stays
the same across renewals). On first start an admin token is written to DIR/admin-token (0600); its
path is logged, never the token.

Flags:
  --config FILE         Cluster spec (YAML), applied at start
  --state-dir DIR       State directory (default /var/lib/muster)
  --listen HOST:PORT    Address to listen on (default 0.0.0.0:9443)
  --advertise-url URL   https://host:port agents and operators use
                        (default https://<listen host or first non-loopback IPv4>:<port>)
  --tls-cert FILE       Serving certificate (PEM); needs --tls-key
  --tls-key FILE        Serving key (PEM); needs --tls-cert
  -h, --help            Show this help

Logs are JSON lines on stdout. SIGTERM/SIGINT close agent connections and exit 0.
`;

const BACKUP_USAGE = `Usage: ${NAME} backup --to FILE [--state-dir DIR]

Writes the coordinator's own state into FILE (a gzipped tar, mode 0600): the database (a consistent
copy, safe while serve is running), the vault key, the generated TLS CA and serving key (so the pin
stays) and the admin token. FILE holds secrets: keep it like the state dir itself. An operator-supplied
--tls-cert/--tls-key is not in the state dir and not in the backup.

Flags:
  --to FILE          Where to write the backup (replaced atomically)
  --state-dir DIR    State directory (default /var/lib/muster)
  -h, --help         Show this help
`;

const RESTORE_USAGE = `Usage: ${NAME} restore --from FILE [--state-dir DIR]

Restores a backup written by \`${NAME} backup\` into DIR, which must not hold a database yet. Every
file is checked first (checksums, database integrity, the vault key against the sealed cluster
token); nothing is written unless all pass. Then start \`${NAME} serve --state-dir DIR\`: the pin,
the admin token and every node's credential are the same as when the backup was taken.

Flags:
  --from FILE        The backup file
  --state-dir DIR    State directory to restore into (default /var/lib/muster)
  -h, --help         Show this help
`;

const hostPort = z.string().transform((value, ctx) => {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(value);
  const host = m?.[1] ?? m?.[2];
  const port = Number(m?.[3]);
  const hostOk =
    host !== undefined &&
    (m?.[1] !== undefined || z.ipv4().safeParse(host).success || isRfc1123Hostname(host));
  if (!m || !hostOk || port > 65535) {
    ctx.addIssue({ code: "custom", message: "must be HOST:PORT, e.g. 0.0.0.0:9443" });
    return z.NEVER;
  }
  return { host: host!, port };
});

const advertiseUrl = z
  .url({ protocol: /^https$/, error: "must be an https:// URL" })
  .refine(
    (u) => ["", "/"].includes(new URL(u).pathname) && !new URL(u).search,
    "must be https://host[:port] with no path",
  )
  .transform((u) => new URL(u).origin);

const existingFile = z.string().refine((p) => existsSync(p), "no such file");

const ServeFlags = z.object({
  config: existingFile.optional(),
  "state-dir": z.string().min(1, "must not be empty").default("/var/lib/muster"),
  listen: hostPort.default({ host: "0.0.0.0", port: 9443 }),
  "advertise-url": advertiseUrl.optional(),
  "tls-cert": existingFile.optional(),
  "tls-key": existingFile.optional(),
});

async function runServe(argv: string[]): Promise<number> {
  const str = { type: "string" } as const;
  const { values, positionals } = parseFlags(argv, {
    help: { type: "boolean", short: "h" },
    config: str,
    "state-dir": str,
    listen: str,
    "advertise-url": str,
    "tls-cert": str,
    "tls-key": str,
  });
  if (values["help"]) {
    process.stdout.write(SERVE_USAGE);
    return 0;
  }
  noPositionals(positionals);
  const result = ServeFlags.safeParse(values);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new UsageError(`--${String(issue.path[0])}: ${issue.message}`);
  }
  const flags = result.data;
  if (Boolean(flags["tls-cert"]) !== Boolean(flags["tls-key"]))
    throw new UsageError(
      `--${flags["tls-cert"] ? "tls-key" : "tls-cert"}: needed with --${flags["tls-cert"] ? "tls-cert" : "tls-key"}`,
    );

  const logger = createLogger({ name: NAME });
  // Loaded only to serve: --help and usage errors stay fast (no fastify, x509, sqlite).
  const { serve } = await import("./serve.ts");
  const running = await serve({
    stateDir: resolve(flags["state-dir"]),
    host: flags.listen.host,
    port: flags.listen.port,
    ...(flags["advertise-url"] ? { advertiseUrl: flags["advertise-url"] } : {}),
    ...(flags["tls-cert"] ? { tlsCert: flags["tls-cert"], tlsKey: flags["tls-key"]! } : {}),
    ...(flags.config ? { configFile: flags.config } : {}),
    logger,
  });
  await new Promise<void>((done) => {
    const stop = (signal: string) => {
      logger.info({ signal }, "shutting down");
      running.close().then(done, (err) => {
        logger.error({ err }, "error while shutting down");
        done();
      });
    };
    process.once("SIGTERM", stop);
    process.once("SIGINT", stop);
  });
  logger.info("stopped");
  return 0;
}

const StateFileFlags = z.object({
  "state-dir": z.string().min(1, "must not be empty").default("/var/lib/muster"),
  file: z.string({ error: "is required" }).min(1, "must not be empty"),
});

/** `backup --to FILE` and `restore --from FILE`: the coordinator's own state in one file. */
async function runStateFile(command: "backup" | "restore", argv: string[]): Promise<number> {
  const fileFlag = command === "backup" ? "to" : "from";
  const { values, positionals } = parseFlags(argv, {
    help: { type: "boolean", short: "h" },
    "state-dir": { type: "string" },
    [fileFlag]: { type: "string" },
  });
  if (values["help"]) {
    process.stdout.write(command === "backup" ? BACKUP_USAGE : RESTORE_USAGE);
    return 0;
  }
  noPositionals(positionals);
  const result = StateFileFlags.safeParse({ "state-dir": values["state-dir"], file: values[fileFlag] });
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const flag = issue.path[0] === "file" ? fileFlag : String(issue.path[0]);
    throw new UsageError(`--${flag}: ${issue.message}`);
  }
  const stateDir = resolve(result.data["state-dir"]);
  const file = resolve(result.data.file);
  const { backupState, restoreState } = await import("./state-backup.ts");
  if (command === "backup") {
    const done = await backupState({ stateDir, to: file });
    const names = Object.keys(done.manifest.files).join(", ");
    process.stdout.write(`backup of ${stateDir} written to ${file} (0600): ${names}\n`);
    return 0;
  }
  const done = await restoreState({ from: file, stateDir });
  process.stdout.write(
    `restored ${file} (taken ${done.manifest.createdAt}) into ${stateDir}; ` +
      `start it with: ${NAME} serve --state-dir ${stateDir}\n`,
  );
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  try {
    const [command, ...rest] = argv;
    if (command === "serve") return await runServe(rest);
    if (command === "backup" || command === "restore") return await runStateFile(command, rest);
    if (command === "--version") {
      process.stdout.write(`${pkg.version}\n`);
      return 0;
    }
    if (command === "--help" || command === "-h") {
      process.stdout.write(USAGE);
      return 0;
    }
    if (command === undefined) throw new UsageError(`missing command (try ${NAME} --help)`);
    throw new UsageError(command.startsWith("-") ? `unknown flag ${command}` : `unknown command ${command}`);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`${NAME}: ${err.message}\n`);
      return 2;
    }
    // Start-up failures (bad config file, port in use, unreadable cert): one clear line, exit 1.
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`${NAME}: ${message.split("\n")[0]}\n`);
    return (err as { code?: string }).code === "VALIDATION_FAILED" ? 2 : 1;
  }
}

// Explicit exit: a finished serve may leave unref-less handles (e.g. keep-alive sockets) behind.
if (import.meta.main) process.exit(await main(process.argv.slice(2)));
