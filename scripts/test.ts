// `npm test`: runs tap and ends with a plain "N passed, N failed, N skipped" line that any CI
// can read (tap's own summary is a TAP comment). The exit code is tap's (non-zero if any lane's is).
//
// With no arguments the suite runs in two lanes at once, each one file at a time: "worlds" (the
// tests that build lab worlds of network namespaces: end-to-end, lab, simulator, the browser over a
// lab) and "units" (the rest). tap's own parallelism would put two worlds side by side on a
// two-core machine, where their timeouts were never meant to hold; the lanes keep worlds one at a
// time and let the light tests run beside them. The worlds lane streams; the units lane is printed
// whole when it ends, so the TAP of each file stays in one piece. With arguments (files, tap
// options) one tap runs them, as before.
import { spawn } from "node:child_process";
import { globSync } from "node:fs";
import { createInterface } from "node:readline";

type Summary = Record<string, number>;

const WORLDS = [
  "test/e2e/**/*.test.ts",
  "test/lab/**/*.test.ts",
  "test/rke2-sim/**/*.test.ts",
  "test/console/ui/browser-lab.test.ts",
];

interface Lane {
  name: string;
  files: string[];
  /** Print each line as it comes (else keep them for the end). */
  stream: boolean;
}

function runTap(args: string[], onLine: (line: string) => void): Promise<{ code: number; summary: Summary }> {
  const child = spawn("tap", args, { stdio: ["ignore", "pipe", "inherit"] });
  let summary: Summary = {};
  createInterface({ input: child.stdout }).on("line", (line) => {
    onLine(line);
    // tap prints e.g. "# { total: 489, pass: 487, fail: 1, skip: 1 }" once, at the end.
    const m = /^# \{ (total: \d+.*) \}$/.exec(line);
    if (m)
      summary = Object.fromEntries(
        m[1]!.split(", ").map((kv) => [kv.split(": ")[0], Number(kv.split(": ")[1])]),
      );
  });
  return new Promise((resolve) =>
    child.on("close", (code, signal) => resolve({ code: code ?? (signal ? 1 : 0), summary })),
  );
}

function lanes(): Lane[] {
  const all = globSync("test/**/*.test.ts").sort();
  const worlds = new Set(WORLDS.flatMap((g) => globSync(g)));
  return [
    { name: "worlds", files: all.filter((f) => worlds.has(f)), stream: true },
    { name: "units", files: all.filter((f) => !worlds.has(f)), stream: false },
  ].filter((l) => l.files.length > 0);
}

const print = (line: string) => process.stdout.write(`${line}\n`);
const args = process.argv.slice(2);
const kept = new Map<string, string[]>();
// tap builds its plugin loader into node_modules on a first run; two taps starting at once would
// both build it and trip over each other, so it is built once, here, before the lanes start.
if (args.length === 0) {
  const built = await runTap(["build"], print);
  if (built.code !== 0) process.exit(built.code);
}
const results =
  args.length > 0
    ? [await runTap(args, print)]
    : await Promise.all(
        lanes().map(async (lane) => {
          const lines: string[] = [];
          kept.set(lane.name, lines);
          const r = await runTap(["--jobs=1", ...lane.files], lane.stream ? print : (l) => lines.push(l));
          // A one-line word as soon as a lane ends, so a failure shows before the long lane is done.
          print(
            `# lane ${lane.name} (${lane.files.length} files) ended: exit code ${r.code}, ${r.summary["fail"] ?? 0} failed`,
          );
          return r;
        }),
      );
for (const [name, lines] of kept) {
  if (lines.length === 0) continue;
  print(`# lane ${name}:`);
  for (const l of lines) print(l);
}

const total = (k: string) => results.reduce((n, r) => n + (r.summary[k] ?? 0), 0);
print(
  `\nassertions: ${total("pass")} passed, ${total("fail")} failed, ${total("skip") + total("todo")} skipped`,
);
process.exit(results.find((r) => r.code !== 0)?.code ?? 0);
