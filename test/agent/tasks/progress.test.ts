import { reportWhile } from "@muster/agent/tasks/progress";
import t from "tap";

t.test("reportWhile: reports on a cadence while the work runs, and stops with it", async (t) => {
  const lines: string[] = [];
  let release!: (v: string) => void;
  const work = new Promise<string>((r) => {
    release = r;
  });
  const done = reportWhile(
    { progress: (m) => lines.push(m), progressEveryMs: 5 },
    work,
    (s) => `still at it: ${s} s`,
  );
  const deadline = Date.now() + 5000;
  while (lines.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  release("result");
  t.equal(await done, "result");
  t.ok(lines.length >= 3);
  t.match(lines[0], /^still at it: \d+ s$/);
  const n = lines.length;
  await new Promise((r) => setTimeout(r, 30));
  t.equal(lines.length, n, "silent once the work ended");
  await t.rejects(
    reportWhile({ progress: () => {} }, Promise.reject(new Error("boom")), () => ""),
    /boom/,
  );
});
