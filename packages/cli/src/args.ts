// Flag parsing for the operator CLI. Hand-rolled rather than node:util parseArgs so every mistake is
// one short line naming the flag (parseArgs' messages are long and generic), and so global flags may
// come before or after the subcommand: `muster --server X nodes` and `muster nodes --server X`.

export class UsageError extends Error {
  override name = "UsageError";
}

export interface OptionSpec {
  type: "string" | "boolean";
  short?: string;
  /** Placeholder shown in --help, e.g. FILE */
  value?: string;
  help: string;
}

export type OptionSpecs = Record<string, OptionSpec>;

export interface Parsed {
  command: string | undefined;
  positionals: string[];
  values: Record<string, string | boolean | undefined>;
}

/** Global flags, valid with every command. */
export const GLOBAL_OPTIONS: OptionSpecs = {
  server: {
    type: "string",
    value: "URL",
    help: "coordinator URL (env MUSTER_SERVER; default https://127.0.0.1:9443)",
  },
  "token-file": {
    type: "string",
    value: "FILE",
    help: "admin token file, mode 0600 (else env MUSTER_TOKEN, MUSTER_TOKEN_FILE, else /var/lib/muster/admin-token)",
  },
  "ca-file": {
    type: "string",
    value: "FILE",
    help: "CA to trust (env MUSTER_CA_FILE; default /var/lib/muster/tls/ca.crt when readable)",
  },
  pin: {
    type: "string",
    value: "sha256//...",
    help: "trust exactly this public key instead (env MUSTER_PIN)",
  },
  help: { type: "boolean", short: "h", help: "show help" },
};

function find(specs: OptionSpecs, flag: string): [string, OptionSpec] | undefined {
  if (flag.startsWith("--")) {
    const spec = specs[flag.slice(2)];
    return spec ? [flag.slice(2), spec] : undefined;
  }
  return Object.entries(specs).find(([, spec]) => spec.short !== undefined && `-${spec.short}` === flag);
}

function splitFlag(arg: string): { flag: string; inline: string | undefined } {
  const eq = arg.startsWith("--") ? arg.indexOf("=") : -1;
  return eq === -1 ? { flag: arg, inline: undefined } : { flag: arg.slice(0, eq), inline: arg.slice(eq + 1) };
}

/**
 * Finds the command: the first word that is not a flag or a flag's value. Which flags take a value
 * is known from every command's options together (the same name means the same kind everywhere).
 */
function commandIndex(argv: readonly string[], all: OptionSpecs): number {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") return i + 1 < argv.length ? i + 1 : -1;
    if (!arg.startsWith("-") || arg === "-") return i;
    const { flag, inline } = splitFlag(arg);
    if (inline === undefined && find(all, flag)?.[1].type === "string") i++;
  }
  return -1;
}

/** Splits argv into the command, its positionals and its flag values; throws UsageError naming the flag. */
export function parseArgv(
  argv: readonly string[],
  commandOptions: Record<string, OptionSpecs>,
  globals: OptionSpecs = GLOBAL_OPTIONS,
): Parsed {
  const all: OptionSpecs = Object.assign({}, globals, ...Object.values(commandOptions));
  const at = commandIndex(argv, all);
  const command = at === -1 ? undefined : argv[at];
  const specs = { ...globals, ...(command ? commandOptions[command] : {}) };
  const parsed: Parsed = { command, positionals: [], values: {} };
  let onlyPositionals = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (i === at) continue;
    if (onlyPositionals || !arg.startsWith("-") || arg === "-") {
      parsed.positionals.push(arg);
      continue;
    }
    if (arg === "--") {
      onlyPositionals = true;
      continue;
    }
    const { flag, inline } = splitFlag(arg);
    const found = find(specs, flag);
    if (!found) throw new UsageError(`unknown flag ${flag}`);
    const [name, spec] = found;
    if (spec.type === "boolean") {
      if (inline !== undefined) throw new UsageError(`${flag} takes no value`);
      parsed.values[name] = true;
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined || (inline === undefined && value.startsWith("-") && value.length > 1)) {
      throw new UsageError(`${flag} needs a value`);
    }
    parsed.values[name] = value;
  }
  return parsed;
}

/** Renders a flags table for --help. */
export function describeOptions(specs: OptionSpecs): string {
  const rows = Object.entries(specs).map(([name, spec]) => {
    const short = spec.short ? `-${spec.short}, ` : "    ";
    return [`  ${short}--${name}${spec.value ? ` ${spec.value}` : ""}`, spec.help] as const;
  });
  const width = Math.max(...rows.map(([left]) => left.length)) + 2;
  return rows.map(([left, help]) => `${left.padEnd(width)}${help}`).join("\n");
}
