// Flag parsing for the operator CLI: the one shared parser (@muster/shared/cli-args) with muster's
// global flags, valid with every command and before or after it.
import { type OptionSpecs, type Parsed, parseArgv as parseShared } from "@muster/shared/cli-args";

export {
  describeOptions,
  type OptionSpec,
  type OptionSpecs,
  type Parsed,
  UsageError,
} from "@muster/shared/cli-args";

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
  version: { type: "boolean", help: "print the version and exit" },
};

/**
 * A command's flags, then the global ones it does not define itself: as the parser reads them (a
 * command's own flag wins, as `upgrade --version V` does over the global `--version`).
 */
export function withGlobals(options: OptionSpecs): OptionSpecs {
  const globals = Object.entries(GLOBAL_OPTIONS).filter(([name]) => !(name in options));
  return { ...options, ...Object.fromEntries(globals) };
}

/** Splits argv for the operator CLI: the global flags plus the command's own. */
export function parseArgv(
  argv: readonly string[],
  commandOptions: Record<string, OptionSpecs>,
  globals: OptionSpecs = GLOBAL_OPTIONS,
): Parsed {
  return parseShared(argv, commandOptions, globals);
}
