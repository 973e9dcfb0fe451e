// systemctl stand-in for the muster test world (bind-mounted over /usr/bin/systemctl in each simulated
// node). Verbs, flags, output and exit codes follow systemctl(1); see test/sim/README.md.
import { existsSync, readFileSync } from "node:fs";
import { disable, enable, unitFileState } from "./systemd/enablement.ts";
import { resetFailed, startUnit, stopUnit } from "./systemd/jobs.ts";
import { changedWarning, daemonReload, loadUnit } from "./systemd/loader.ts";
import { effectiveState, ensureStateDirs, readState } from "./systemd/state.ts";
import { properties, statusText } from "./systemd/status.ts";
import { normalizeUnitName } from "./systemd/unit.ts";

interface Options {
  now: boolean;
  quiet: boolean;
  value: boolean;
  noBlock: boolean;
  props: string[];
  lines: number;
}

const io = { err: (line: string) => process.stderr.write(`${line}\n`) };
const out = (line: string) => process.stdout.write(`${line}\n`);

function parseArgs(argv: string[]): { verb: string; units: string[]; opts: Options } {
  const opts: Options = { now: false, quiet: false, value: false, noBlock: false, props: [], lines: 10 };
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--now") opts.now = true;
    else if (a === "-q" || a === "--quiet") opts.quiet = true;
    else if (a === "--value") opts.value = true;
    else if (a === "--no-block") opts.noBlock = true;
    else if (a === "-p" || a === "--property") opts.props.push(...(argv[++i] ?? "").split(","));
    else if (a.startsWith("--property=")) opts.props.push(...a.slice(11).split(","));
    else if (a.startsWith("-p") && a.length > 2) opts.props.push(...a.slice(2).split(","));
    else if (a === "-n" || a === "--lines") opts.lines = Number(argv[++i]);
    else if (a.startsWith("--lines=")) opts.lines = Number(a.slice(8));
    else if (
      ["--no-pager", "--full", "-l", "--no-legend", "--system", "--plain", "--no-ask-password"].includes(a)
    ) {
    } else if (a.startsWith("-")) throw new UsageError(`systemctl: unrecognized option '${a}'`);
    else positional.push(a);
  }
  const [verb = "list-units", ...units] = positional;
  return { verb, units: units.map(normalizeUnitName), opts };
}

class UsageError extends Error {}

function requireUnits(verb: string, units: string[]): void {
  if (units.length === 0) throw new UsageError(`Too few arguments.`);
  void verb;
}

async function run(argv: string[]): Promise<number> {
  const { verb, units, opts } = parseArgs(argv);
  ensureStateDirs();
  switch (verb) {
    case "daemon-reload":
      daemonReload();
      return 0;
    case "start":
    case "stop":
    case "restart": {
      requireUnits(verb, units);
      let rc = 0;
      for (const u of units) {
        if (verb !== "start") rc = Math.max(rc, await stopUnit(u, io));
        if (verb !== "stop" && rc === 0) rc = Math.max(rc, await startUnit(u, io, opts.noBlock));
      }
      return rc;
    }
    case "enable":
    case "disable": {
      requireUnits(verb, units);
      for (const u of units) {
        const loaded = loadUnit(u);
        if (!loaded) {
          io.err(`Failed to ${verb} unit: Unit file ${u} does not exist.`);
          return 1;
        }
        for (const line of verb === "enable" ? enable(loaded.unit) : disable(loaded.unit)) io.err(line);
        if (opts.now) {
          const rc = verb === "enable" ? await startUnit(u, io, opts.noBlock) : await stopUnit(u, io);
          if (rc !== 0) return rc;
        }
      }
      return 0;
    }
    case "is-active":
    case "is-failed": {
      requireUnits(verb, units);
      let ok = true;
      for (const u of units) {
        const state = effectiveState(readState(u))?.activeState ?? "inactive";
        if (!opts.quiet) out(state);
        ok &&= verb === "is-active" ? state === "active" : state === "failed";
      }
      return ok ? 0 : verb === "is-active" ? 3 : 1;
    }
    case "is-enabled": {
      requireUnits(verb, units);
      let ok = true;
      for (const u of units) {
        const loaded = loadUnit(u);
        if (!loaded) {
          io.err(`Failed to get unit file state for ${u}: No such file or directory`);
          return 1;
        }
        const state = unitFileState(loaded.unit);
        if (!opts.quiet) out(state);
        ok &&= state !== "disabled";
      }
      return ok ? 0 : 1;
    }
    case "status": {
      requireUnits(verb, units);
      let rc = 0;
      for (const u of units) {
        const loaded = loadUnit(u);
        const state = readState(u);
        if (!loaded && !state) {
          io.err(`Unit ${u} could not be found.`);
          rc = Math.max(rc, 4);
          continue;
        }
        out(statusText(u, loaded, state, opts.lines));
        if (effectiveState(state)?.activeState !== "active") rc = Math.max(rc, 3);
      }
      return rc;
    }
    case "show": {
      requireUnits(verb, units);
      units.forEach((u, i) => {
        const props = properties(u, loadUnit(u), readState(u));
        const keys = opts.props.length ? opts.props : [...props.keys()];
        if (i > 0) out("");
        for (const k of keys) out(opts.value ? (props.get(k) ?? "") : `${k}=${props.get(k) ?? ""}`);
      });
      return 0;
    }
    case "cat": {
      requireUnits(verb, units);
      for (const u of units) {
        const loaded = loadUnit(u);
        if (!loaded) {
          io.err(`No files found for ${u}.`);
          return 1;
        }
        if (loaded.changedOnDisk) io.err(changedWarning(u));
        const file = loaded.unit.fragmentPath;
        out(`# ${file}\n${existsSync(file) ? readFileSync(file, "utf8") : ""}`);
      }
      return 0;
    }
    case "reset-failed":
      for (const u of units) await resetFailed(u);
      return 0;
    default:
      io.err(`Unknown command verb ${verb}.`);
      return 1;
  }
}

run(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: Error) => {
    io.err(err instanceof UsageError ? err.message : `systemctl (simulator): ${err.stack ?? err.message}`);
    process.exit(1);
  },
);
