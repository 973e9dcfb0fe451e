// kubectl's command line as cobra/pflag reads it: flags anywhere among the arguments, `--f v`,
// `--f=v`, `-n v`, booleans as `--f` or `--f=false`; an unknown flag is an error naming it and the
// help command to run, exit status 1.

export class UsageError extends Error {}

type Kind = "string" | "bool";

const GLOBAL: Record<string, Kind> = {
  kubeconfig: "string",
  namespace: "string",
  "request-timeout": "string",
  v: "string",
  help: "bool",
};
const SHORT: Record<string, string> = {
  n: "namespace",
  o: "output",
  A: "all-namespaces",
  l: "selector",
  v: "v",
  h: "help",
};

export const VERB_FLAGS: Record<string, Record<string, Kind>> = {
  get: {
    output: "string",
    "all-namespaces": "bool",
    "field-selector": "string",
    selector: "string",
    "no-headers": "bool",
  },
  delete: {
    wait: "bool",
    timeout: "string",
    force: "bool",
    "grace-period": "string",
    "ignore-not-found": "bool",
    now: "bool",
  },
  drain: {
    "ignore-daemonsets": "bool",
    "delete-emptydir-data": "bool",
    "delete-local-data": "bool",
    force: "bool",
    timeout: "string",
    "grace-period": "string",
    "disable-eviction": "bool",
    "skip-wait-for-delete-timeout": "string",
  },
  cordon: {},
  uncordon: {},
  annotate: { overwrite: "bool" },
  label: { overwrite: "bool" },
  version: { client: "bool", output: "string" },
};

export interface Parsed {
  verb: string;
  args: string[];
  flags: Map<string, string>;
}

export function parseArgs(argv: string[]): Parsed {
  const flags = new Map<string, string>();
  const positional: string[] = [];
  let verb = "";
  // The verb is the first argument that is not a flag (or a global flag's value).
  const kindOf = (name: string): Kind | undefined =>
    GLOBAL[name] ?? (verb ? VERB_FLAGS[verb]?.[name] : undefined);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith("--")) {
      const eq = a.indexOf("=");
      const name = eq >= 0 ? a.slice(2, eq) : a.slice(2);
      const kind = kindOf(name);
      if (!kind) throw new UsageError(`unknown flag: --${name}`);
      if (eq >= 0) flags.set(name, a.slice(eq + 1));
      else if (kind === "bool") flags.set(name, "true");
      else if (i + 1 < argv.length) flags.set(name, argv[++i]!);
      else throw new UsageError(`flag needs an argument: --${name}`);
      continue;
    }
    if (a.startsWith("-") && a.length > 1) {
      const short = a[1]!;
      const name = SHORT[short];
      const kind = name ? kindOf(name) : undefined;
      if (!name || !kind) throw new UsageError(`unknown shorthand flag: '${short}' in ${a}`);
      const rest = a.slice(2).replace(/^=/, "");
      if (kind === "bool") flags.set(name, rest || "true");
      else if (rest) flags.set(name, rest);
      else if (i + 1 < argv.length) flags.set(name, argv[++i]!);
      else throw new UsageError(`flag needs an argument: '${short}' in -${short}`);
      continue;
    }
    if (!verb) verb = a;
    else positional.push(a);
  }
  return { verb, args: positional, flags };
}

export function boolFlag(flags: Map<string, string>, name: string, fallback = false): boolean {
  const v = flags.get(name);
  if (v === undefined) return fallback;
  if (/^(true|1|t)$/i.test(v)) return true;
  if (/^(false|0|f)$/i.test(v)) return false;
  throw new UsageError(
    `invalid argument "${v}" for "--${name}" flag: strconv.ParseBool: parsing "${v}": invalid syntax`,
  );
}

/** Go's time.ParseDuration for the forms kubectl users write ("60s", "1m30s", "500ms", "0"). */
export function parseDuration(v: string): number {
  if (v === "0") return 0;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
  let total = 0;
  let consumed = 0;
  for (const m of v.matchAll(re)) {
    const n = Number(m[1]);
    total += m[2] === "ms" ? n : m[2] === "s" ? n * 1000 : m[2] === "m" ? n * 60_000 : n * 3_600_000;
    consumed += m[0].length;
  }
  if (consumed !== v.length || consumed === 0)
    throw new UsageError(`invalid argument "${v}": time: invalid duration "${v}"`);
  return total;
}
