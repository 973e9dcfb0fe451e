import { describeOptions, GLOBAL_OPTIONS, parseArgv, UsageError, withGlobals } from "./args.ts";
import { ApiError, OperatorClient } from "./client.ts";
import { COMMANDS as BASIC_COMMANDS, type Command } from "./commands.ts";
import { completionScript } from "./completion.ts";
import { loadConfig } from "./config-file.ts";
import { DEFAULTS, type Defaults, resolveConnection } from "./connection.ts";
import { KUBECONFIG_COMMANDS } from "./kubeconfig-command.ts";
import { SESSION_COMMANDS } from "./session-commands.ts";

const COMMANDS: Record<string, Command> = {
  ...BASIC_COMMANDS,
  ...SESSION_COMMANDS,
  ...KUBECONFIG_COMMANDS,
  completion: {
    summary: "print a shell completion script (bash or zsh); needs no coordinator",
    usage: "muster completion bash|zsh   (e.g. source <(muster completion bash))",
    options: {},
    // Handled in runOperator before any connection is resolved.
    run: async () => {},
  },
};

import pkg from "../package.json" with { type: "json" };

// `muster`: the operator CLI over the coordinator's REST API. Exit codes: 0 ok, 1 the request failed
// (the coordinator's own message is shown), 2 a bad command line (one line naming the flag).

export interface OperatorIo {
  env: NodeJS.ProcessEnv;
  out: (text: string) => void;
  err: (text: string) => void;
  defaults?: Defaults;
  signal?: AbortSignal;
  now?: () => number;
  followIntervalMs?: number;
}

function mainHelp(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length)) + 2;
  const commands = Object.entries(COMMANDS)
    .map(([name, c]) => `  ${name.padEnd(width)}${c.summary}`)
    .join("\n");
  return `Usage: muster <command> [flags]

The operator CLI of a muster coordinator.

Commands:
${commands}

Global flags (before or after the command):
${describeOptions(GLOBAL_OPTIONS)}

Run \`muster <command> --help\` for a command's flags. Exit codes: 0 ok, 1 request failed, 2 usage error.`;
}

function commandHelp(name: string): string {
  const c = COMMANDS[name]!;
  return `Usage: ${c.usage}

${c.summary[0]!.toUpperCase()}${c.summary.slice(1)}.
${c.notes ? `\n${c.notes}\n` : ""}
Flags:
${describeOptions(withGlobals(c.options))}`;
}

export async function runOperator(argv: readonly string[], io: OperatorIo): Promise<number> {
  const options = Object.fromEntries(Object.entries(COMMANDS).map(([name, c]) => [name, c.options]));
  try {
    let parsed = parseArgv(argv, options);
    if (parsed.command === "help") {
      const topic = parsed.positionals[0];
      parsed = { command: topic, positionals: [], values: { help: true } };
    }
    const { command, values } = parsed;
    if (command === undefined && values["version"]) {
      io.out(pkg.version);
      return 0;
    }
    if (command === undefined) {
      (values["help"] ? io.out : io.err)(mainHelp());
      return values["help"] ? 0 : 2;
    }
    const spec = COMMANDS[command];
    if (!spec)
      throw new UsageError(`unknown command ${command} (commands: ${Object.keys(COMMANDS).join(", ")})`);
    if (values["help"]) {
      io.out(commandHelp(command));
      return 0;
    }
    if (command === "completion") {
      if (parsed.positionals.length > 1) throw new UsageError(`unexpected argument ${parsed.positionals[1]}`);
      io.out(completionScript(parsed.positionals[0], COMMANDS).replace(/\n$/, ""));
      return 0;
    }
    const connection = resolveConnection(values, io.env, io.defaults ?? DEFAULTS, loadConfig(io.env));
    const client = new OperatorClient(connection);
    await spec.run({
      client,
      connection,
      env: io.env,
      positionals: parsed.positionals,
      values,
      out: io.out,
      err: io.err,
      now: io.now ?? Date.now,
      signal: io.signal ?? new AbortController().signal,
      followIntervalMs: io.followIntervalMs ?? 2000,
    });
    return 0;
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`muster: ${err.message}`);
      return 2;
    }
    if (err instanceof ApiError) {
      io.err(`muster: ${err.message}`);
      return 1;
    }
    throw err;
  }
}
