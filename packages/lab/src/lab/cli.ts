// `npm run lab -- <verb>`: the lab's command line (docs/reference.md#lab). Flags are parsed by the
// operator CLI's parser (one approach for every muster command). Exit codes: 0 ok, 1 the action
// failed, 2 bad input (unknown lab, node or flag, cannot run here): one line, nothing changed.
// Verb modules are imported when their verb runs: a one-line error or `ls` should not pay for loading
// the simulator's artifact builder.
import { describeOptions, type OptionSpecs, parseArgv, UsageError } from "@muster/shared/cli-args";
import { canRunWorld } from "../world/prereq.ts";
import { LabInputError, machineOf, REGISTRATION_MODES, type RegistrationMode, readRecord } from "./state.ts";

export interface LabIo {
  out: (text: string) => void;
  err: (text: string) => void;
}

const GLOBALS: OptionSpecs = { help: { type: "boolean", short: "h", help: "show help" } };
const json: OptionSpecs = { json: { type: "boolean", help: "print one JSON object last on stdout" } };

interface Verb {
  usage: string;
  summary: string;
  options: OptionSpecs;
  /** Number of positionals, or "rest" for exec's command. */
  args: number | "exec";
  run: (p: string[], v: Record<string, string | boolean | undefined>, io: LabIo) => Promise<number>;
}

const VERBS: Record<string, Verb> = {
  up: {
    usage:
      "lab up [--servers N] [--agents M] [--registration vip|lb|node] [--s3] [--init-seconds S] [--join-seconds S] [--agent-seconds S] [--json]",
    summary:
      "build a persistent lab and enrol every node with the real curl-bash line; it stays up until `down`",
    options: {
      servers: { type: "string", value: "N", help: "servers, 1-9 (default 3)" },
      agents: { type: "string", value: "M", help: "agents (workers), 0-20 (default 2)" },
      registration: {
        type: "string",
        value: "MODE",
        help: "node: the init server's IP (default for now: vip is not yet verified in the lab); lb: a haproxy node; vip: a kube-vip VIP",
      },
      s3: {
        type: "boolean",
        help: "an S3-protocol server in its own machine, set as spec.backup.s3 (snapshots uploaded there)",
      },
      "init-seconds": {
        type: "string",
        value: "S",
        help: "simulated first server start, 0-600 (default 20)",
      },
      "join-seconds": {
        type: "string",
        value: "S",
        help: "simulated further server start, 0-600 (default 20)",
      },
      "agent-seconds": { type: "string", value: "S", help: "simulated agent start, 0-600 (default 10)" },
      ...json,
    },
    args: 0,
    run: async (_p, v, io) => {
      const registration = (v["registration"] ?? "node") as string;
      if (!(REGISTRATION_MODES as readonly string[]).includes(registration))
        throw new UsageError(`--registration must be vip, lb or node, got ${registration}`);
      const req = {
        servers: int(v, "servers", 3, 1, 9),
        agents: int(v, "agents", 2, 0, 20),
        registration: registration as RegistrationMode,
        s3: v["s3"] === true,
        durations: {
          initSeconds: int(v, "init-seconds", 20, 0, 600),
          joinSeconds: int(v, "join-seconds", 20, 0, 600),
          agentSeconds: int(v, "agent-seconds", 10, 0, 600),
          promoteIntervalSeconds: 1,
        },
      };
      const say = v["json"] ? io.err : io.out;
      const { labUp } = await import("./up.ts");
      const { friendlySummary } = await import("./report.ts");
      const s = await labUp(req, say);
      if (v["json"]) io.out(JSON.stringify(s.json));
      else io.out(friendlySummary(s));
      return s.ok ? 0 : 1;
    },
  },
  exec: {
    usage: "lab exec ID NODE -- CMD [ARG...]",
    summary:
      "run CMD inside the node (its network, mount and UTS namespaces); its exit code is passed through",
    options: {},
    args: "exec",
    run: async (p) => {
      const r = readRecord(p[0]!);
      const { nodeOf } = await import("./machines.ts");
      const node = nodeOf(r, p[1]!);
      const res = await node.exec(p[2]!, p.slice(3), { reject: false, stdio: "inherit" });
      return res.exitCode ?? 1;
    },
  },
  kill: {
    usage: "lab kill ID NODE",
    summary: "power loss: SIGKILL every process of the node at once and take its link down",
    options: {},
    args: 2,
    run: async (p, _v, io) => {
      const { killNode } = await import("./power.ts");
      const killed = await killNode(readRecord(p[0]!), p[1]!);
      io.out(`lab: ${p[1]} is off (${killed.length} processes killed, link down)`);
      return 0;
    },
  },
  stop: {
    usage: "lab stop ID NODE UNIT",
    summary: "`systemctl stop UNIT` inside the node; its exit code is passed through",
    options: {},
    args: 3,
    run: async (p) => (await import("./power.ts")).stopUnit(readRecord(p[0]!), p[1]!, p[2]!),
  },
  partition: {
    usage: "lab partition ID NODE [--seconds S]",
    summary: "cut the node's link (processes keep running); restored by `heal` or after S seconds",
    options: { seconds: { type: "string", value: "S", help: "heal by itself after S seconds (1-86400)" } },
    args: 2,
    run: async (p, v, io) => {
      const seconds = v["seconds"] === undefined ? undefined : int(v, "seconds", 0, 1, 86400);
      const r = readRecord(p[0]!);
      machineOf(r, p[1]!);
      await (await import("./power.ts")).partition(r, p[1]!, seconds);
      io.out(`lab: ${p[1]} is cut off${seconds ? ` for ${seconds} s` : " (until `heal`)"}`);
      return 0;
    },
  },
  heal: {
    usage: "lab heal ID NODE",
    summary: "restore the node's link",
    options: {},
    args: 2,
    run: async (p, _v, io) => {
      await (await import("./power.ts")).heal(readRecord(p[0]!), p[1]!);
      io.out(`lab: ${p[1]} is connected again`);
      return 0;
    },
  },
  add: {
    usage: "lab add ID --role server|agent [--name N] [--json]",
    summary: "build a new machine in the lab and enrol it with the real curl-bash line",
    options: {
      role: { type: "string", value: "ROLE", help: "server or agent (required)" },
      name: { type: "string", value: "N", help: "node name (default: the next server-N / agent-N)" },
      ...json,
    },
    args: 1,
    run: async (p, v, io) => {
      const role = v["role"];
      if (role !== "server" && role !== "agent")
        throw new UsageError(`--role must be server or agent${role === undefined ? "" : `, got ${role}`}`);
      const r = readRecord(p[0]!);
      const { addNode } = await import("./add.ts");
      const res = await addNode(r, role, v["name"] as string | undefined, v["json"] ? io.err : io.out);
      const line = { name: res.machine.name, role, address: res.machine.address, state: res.state };
      io.out(
        v["json"] ? JSON.stringify(line) : `lab: ${line.name} (${role}, ${line.address}) is ${res.state}`,
      );
      return res.ok ? 0 : 1;
    },
  },
  down: {
    usage: "lab down ID",
    summary: "remove every namespace, mount, process and file of the lab (also after a crashed `up`)",
    options: {},
    args: 1,
    run: async (p, _v, io) => {
      const report = (await import("./down.ts")).labDown(p[0]!);
      if (report.problems.length > 0) {
        io.err(`lab: ${p[0]} left things behind: ${report.problems.join("; ")}`);
        return 1;
      }
      io.out(`lab: ${p[0]} removed (${report.killed.length} processes ended)`);
      return 0;
    },
  },
  ls: {
    usage: "lab ls [--json]",
    summary: "list the labs on this machine",
    options: { ...json },
    args: 0,
    run: async (_p, v, io) => {
      io.out((await import("./ls.ts")).lsLines(v["json"] === true));
      return 0;
    },
  },
};

function int(
  v: Record<string, string | boolean | undefined>,
  flag: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const raw = v[flag];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (typeof raw !== "string" || !/^\d+$/.test(raw) || n < min || n > max)
    throw new UsageError(`--${flag} must be a whole number from ${min} to ${max}, got ${String(raw)}`);
  return n;
}

function mainHelp(): string {
  const width = Math.max(...Object.keys(VERBS).map((c) => c.length)) + 2;
  const verbs = Object.entries(VERBS).map(([name, c]) => `  ${name.padEnd(width)}${c.summary}`);
  return `Usage: npm run lab -- <verb> [flags]

A lab: a persistent world of simulated machines (Linux namespaces on this host) with the real muster
coordinator and agents on simulated RKE2 over real etcd. Needs root. Every verb has --help.

Verbs:
${verbs.join("\n")}

Exit codes: 0 ok, 1 the action failed, 2 bad input (nothing was changed).`;
}

function verbHelp(name: string): string {
  const v = VERBS[name]!;
  const flags = describeOptions({ ...v.options, ...GLOBALS });
  return `Usage: npm run ${v.usage}\n\n${v.summary[0]!.toUpperCase()}${v.summary.slice(1)}.\n\nFlags:\n${flags}`;
}

export async function runLab(argv: readonly string[], io: LabIo): Promise<number> {
  const options = Object.fromEntries(Object.entries(VERBS).map(([name, c]) => [name, c.options]));
  try {
    const parsed = parseArgv(argv, options, GLOBALS);
    const { command, positionals, values } = parsed;
    if (command === undefined) {
      (values["help"] ? io.out : io.err)(mainHelp());
      return values["help"] ? 0 : 2;
    }
    const verb = VERBS[command];
    if (!verb) throw new UsageError(`unknown verb ${command} (verbs: ${Object.keys(VERBS).join(", ")})`);
    if (values["help"]) {
      io.out(verbHelp(command));
      return 0;
    }
    if (verb.args === "exec") {
      if (positionals.length < 3) throw new UsageError(`usage: ${verb.usage}`);
    } else if (positionals.length !== verb.args) {
      throw new UsageError(`usage: ${verb.usage}`);
    }
    // Every verb acts on namespaces: refuse early, before anything is read or made.
    if (command !== "up") {
      const can = canRunWorld();
      if (!can.ok) throw new LabInputError(`cannot run a lab here: ${can.reason}`);
    }
    return await verb.run(positionals, values, io);
  } catch (err) {
    if (err instanceof UsageError || err instanceof LabInputError) {
      io.err(`lab: ${err.message}`);
      return 2;
    }
    io.err(`lab: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}
