import { type ParseArgsOptionsConfig, parseArgs } from "node:util";

// The one flag parser every muster command line uses (muster, muster-agent, muster-coordinator,
// muster-lab): node:util parseArgs, wrapped once. parseArgs reads the tokens; the checks here turn
// each mistake into one short line naming the flag (parseArgs' own messages are long and generic),
// thrown as the one UsageError every CLI maps to exit 2. Global flags may come before or after the
// subcommand: `muster --server X nodes` and `muster nodes --server X`.

export class UsageError extends Error {
  override name = "UsageError";
}

export interface OptionSpec {
  type: "string" | "boolean";
  short?: string;
  /** Placeholder shown in --help, e.g. FILE */
  value?: string;
  help?: string;
}

export type OptionSpecs = Record<string, OptionSpec>;

export type FlagValues = Record<string, string | boolean | undefined>;

export interface Parsed {
  command: string | undefined;
  positionals: string[];
  values: FlagValues;
}

function config(specs: OptionSpecs): ParseArgsOptionsConfig {
  return Object.fromEntries(
    Object.entries(specs).map(([name, s]) => [
      name,
      s.short ? { type: s.type, short: s.short } : { type: s.type },
    ]),
  );
}

type Token = NonNullable<ReturnType<typeof parseArgs>["tokens"]>[number];

function tokens(argv: readonly string[], specs: OptionSpecs): Token[] {
  return parseArgs({
    args: [...argv],
    options: config(specs),
    strict: false,
    allowPositionals: true,
    tokens: true,
  }).tokens;
}

/** Checks one option token against the flags valid here; returns its name and value. */
function check(token: Token & { kind: "option" }, specs: OptionSpecs): [string, string | boolean] {
  const spec = Object.hasOwn(specs, token.name) ? specs[token.name] : undefined;
  if (!spec) throw new UsageError(`unknown flag ${token.rawName}`);
  if (spec.type === "boolean") {
    if (token.inlineValue) throw new UsageError(`${token.rawName} takes no value`);
    return [token.name, true];
  }
  const value = token.value;
  if (value === undefined || (!token.inlineValue && value.startsWith("-") && value.length > 1)) {
    throw new UsageError(`${token.rawName} needs a value`);
  }
  return [token.name, value];
}

/** Flags and positionals of a command line without subcommands; throws UsageError naming the flag. */
export function parseFlags(argv: readonly string[], specs: OptionSpecs): Omit<Parsed, "command"> {
  const parsed: Omit<Parsed, "command"> = { positionals: [], values: {} };
  for (const token of tokens(argv, specs)) {
    if (token.kind === "positional") parsed.positionals.push(token.value);
    else if (token.kind === "option") {
      const [name, value] = check(token, specs);
      parsed.values[name] = value;
    }
  }
  return parsed;
}

/**
 * Splits argv into the command (the first positional), its positionals and its flag values; flags
 * are the globals plus the command's own. Which flags take a value is known from every command's
 * options together (the same name means the same kind everywhere). Throws UsageError naming the flag.
 */
export function parseArgv(
  argv: readonly string[],
  commandOptions: Record<string, OptionSpecs>,
  globals: OptionSpecs,
): Parsed {
  const all: OptionSpecs = Object.assign({}, globals, ...Object.values(commandOptions));
  const toks = tokens(argv, all);
  const first = toks.find((t) => t.kind === "positional");
  const command = first?.value;
  const specs = {
    ...globals,
    ...(command && Object.hasOwn(commandOptions, command) ? commandOptions[command] : {}),
  };
  const parsed: Parsed = { command, positionals: [], values: {} };
  for (const token of toks) {
    if (token === first) continue;
    if (token.kind === "positional") parsed.positionals.push(token.value);
    else if (token.kind === "option") {
      const [name, value] = check(token, specs);
      parsed.values[name] = value;
    }
  }
  return parsed;
}

/** Rejects positionals where a command takes none. */
export function noPositionals(positionals: readonly string[]): void {
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${positionals[0]}`);
}

/** Renders a flags table for --help. */
export function describeOptions(specs: OptionSpecs): string {
  const rows = Object.entries(specs).map(([name, spec]) => {
    const short = spec.short ? `-${spec.short}, ` : "    ";
    return [`  ${short}--${name}${spec.value ? ` ${spec.value}` : ""}`, spec.help ?? ""] as const;
  });
  const width = Math.max(...rows.map(([left]) => left.length)) + 2;
  return rows.map(([left, help]) => `${left.padEnd(width)}${help}`).join("\n");
}
