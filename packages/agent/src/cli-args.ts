import { AGENT_CONFIG_PATH } from "@muster/shared";
import {
  type FlagValues,
  noPositionals,
  type OptionSpecs,
  parseFlags,
  UsageError,
} from "@muster/shared/cli-args";
import { validVip } from "./check-command.ts";

// Flag parsing for muster-agent. Every mistake becomes one line naming the flag (exit 2, docs/reference.md).
export const USAGE = `Usage:
  muster-agent run [--config ${AGENT_CONFIG_PATH}]
      The node agent daemon (systemd runs this). Refuses a config file others can read.
  muster-agent check [--role server|agent] [--interface IF] [--vip IP] [--json]
      Runs the node checks locally and prints them; exit 0 when no check fails, 1 otherwise.
      --role       role to check for (default server; minimums are the spec defaults)
      --interface  the VIP interface (default: the default-route interface); without --vip,
                   checks that it exists, is up and has an IPv4 address
      --vip        a virtual IP to check (interface, subnet, and who answers ARP for it)
      --json       print {"ok":bool,"checks":[{"name","status","message","fix"?}]}
  muster-agent --help | --version`;

export { UsageError };

export type Command =
  | { kind: "help" }
  | { kind: "version" }
  | { kind: "run"; config: string }
  | { kind: "check"; role: "server" | "agent"; interface?: string; vip?: string; json: boolean };

/** Flags of one subcommand (plus --help); no positionals. Mistakes name the subcommand first. */
function parse(args: string[], options: OptionSpecs, where: string): FlagValues {
  try {
    const { values, positionals } = parseFlags(args, { ...options, help: { type: "boolean" } });
    noPositionals(positionals);
    return values;
  } catch (err) {
    if (err instanceof UsageError) throw new UsageError(`${where}: ${err.message}`);
    throw err;
  }
}

export function parseCommand(argv: string[]): Command {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === "--help" || sub === "-h" || sub === "help") return { kind: "help" };
  if (sub === "--version" || sub === "-v") return { kind: "version" };
  if (sub === "run") {
    const values = parse(rest, { config: { type: "string" } }, "muster-agent run");
    if (values.help) return { kind: "help" };
    const config = (values.config as string | undefined) ?? AGENT_CONFIG_PATH;
    if (!config.startsWith("/"))
      throw new UsageError(`muster-agent run: --config must be an absolute path (got "${config}")`);
    return { kind: "run", config };
  }
  if (sub === "check") {
    const opts = {
      role: { type: "string" },
      interface: { type: "string" },
      vip: { type: "string" },
      json: { type: "boolean" },
    } as const;
    const values = parse(rest, opts, "muster-agent check");
    if (values.help) return { kind: "help" };
    const role = (values.role as string | undefined) ?? "server";
    if (role !== "server" && role !== "agent")
      throw new UsageError(`muster-agent check: --role must be server or agent (got "${role}")`);
    const iface = values.interface as string | undefined;
    if (iface !== undefined && !/^[A-Za-z0-9_.:@-]{1,15}$/.test(iface))
      throw new UsageError(
        `muster-agent check: --interface must be a network interface name (got "${iface}")`,
      );
    const vip = values.vip as string | undefined;
    if (vip !== undefined && !validVip(vip))
      throw new UsageError(`muster-agent check: --vip must be an IPv4 address (got "${vip}")`);
    return {
      kind: "check",
      role,
      json: values.json === true,
      ...(iface ? { interface: iface } : {}),
      ...(vip ? { vip } : {}),
    };
  }
  throw new UsageError(`muster-agent: unknown command "${sub}" (commands: run, check)`);
}
