// `npm test`: runs tap and ends with a plain "N passed, N failed, N skipped" line that any CI
// can read (tap's own summary is a TAP comment). tap's exit code is kept.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";

const child = spawn("tap", process.argv.slice(2), { stdio: ["ignore", "pipe", "inherit"] });
let summary: Record<string, number> | null = null;

createInterface({ input: child.stdout }).on("line", (line) => {
  process.stdout.write(`${line}\n`);
  // tap prints e.g. "# { total: 489, pass: 487, fail: 1, skip: 1 }" once, at the end.
  const m = /^# \{ (total: \d+.*) \}$/.exec(line);
  if (m)
    summary = Object.fromEntries(
      m[1]!.split(", ").map((kv) => [kv.split(": ")[0], Number(kv.split(": ")[1])]),
    );
});

child.on("close", (code, signal) => {
  const s = summary ?? {};
  const skipped = (s["skip"] ?? 0) + (s["todo"] ?? 0);
  process.stdout.write(
    `\nassertions: ${s["pass"] ?? 0} passed, ${s["fail"] ?? 0} failed, ${skipped} skipped\n`,
  );
  process.exit(code ?? (signal ? 1 : 0));
});
