import { describeOptions, noPositionals, parseArgv, parseFlags, UsageError } from "@muster/shared/cli-args";
import t from "tap";

const globals = { server: { type: "string", help: "url" }, help: { type: "boolean", short: "h" } } as const;
const commands = { nodes: { json: { type: "boolean" } }, logs: { since: { type: "string" } } } as const;

t.test("parseArgv: global flags before or after the command, the command's own flags", async (t) => {
  t.same(parseArgv(["--server", "X", "nodes", "--json"], commands, globals), {
    command: "nodes",
    positionals: [],
    values: { server: "X", json: true },
  });
  t.same(parseArgv(["logs", "a", "--since=5m", "-h", "--server", "Y"], commands, globals), {
    command: "logs",
    positionals: ["a"],
    values: { since: "5m", help: true, server: "Y" },
  });
  t.same(parseArgv(["--", "nodes", "--json"], commands, globals).positionals, ["--json"]);
  t.equal(parseArgv([], commands, globals).command, undefined);
});

t.test("every mistake is one UsageError naming the flag", async (t) => {
  const cases: [string[], string][] = [
    [["nodes", "--bogus"], "unknown flag --bogus"],
    [["--bogus", "nodes"], "unknown flag --bogus"],
    [["logs", "--json"], "unknown flag --json"],
    [["nodes", "--json=1"], "--json takes no value"],
    [["nodes", "--server"], "--server needs a value"],
    [["nodes", "--server", "--json"], "--server needs a value"],
  ];
  for (const [argv, message] of cases)
    t.throws(() => parseArgv(argv, commands, globals), new UsageError(message));
  t.throws(() => parseFlags(["-x"], globals), new UsageError("unknown flag -x"));
  t.same(parseFlags(["--server=-dash", "p"], globals), { positionals: ["p"], values: { server: "-dash" } });
  t.throws(() => noPositionals(["extra"]), new UsageError("unexpected argument extra"));
  t.doesNotThrow(() => noPositionals([]));
});

t.test("describeOptions renders the flags table", async (t) => {
  t.equal(describeOptions(globals), "      --server  url\n  -h, --help    ");
});
