import { createExec } from "@muster/agent/adapters/exec";
import t from "tap";

const exec = createExec();

t.test("captures stdout, stderr and the exit code; input goes to stdin", async (t) => {
  const r = await exec.run("sh", ["-c", "cat; echo err >&2; exit 3"], { input: "hello\n" });
  t.same(r, { exitCode: 3, stdout: "hello\n", stderr: "err\n", timedOut: false });
});

t.test("extra env reaches the child next to the inherited one", async (t) => {
  const r = await exec.run("sh", ["-c", 'echo "$MUSTER_EXEC_TEST:$PATH"'], {
    env: { MUSTER_EXEC_TEST: "yes" },
  });
  t.equal(r.exitCode, 0);
  t.equal(r.stdout, `yes:${process.env.PATH}\n`);
});

t.test("a missing command is 127, like a shell", async (t) => {
  const r = await exec.run("/nonexistent/muster-no-such-command", []);
  t.equal(r.exitCode, 127);
  t.match(r.stderr, /ENOENT/);
});

t.test("a timeout kills the child and reports 124", async (t) => {
  const r = await exec.run("sleep", ["30"], { timeoutMs: 100 });
  t.same({ exitCode: r.exitCode, timedOut: r.timedOut }, { exitCode: 124, timedOut: true });
});

t.test("a cancel kills the child and reports 130", async (t) => {
  const ac = new AbortController();
  const p = exec.run("sleep", ["30"], { signal: ac.signal });
  setImmediate(() => ac.abort());
  t.equal((await p).exitCode, 130);
  const already = await exec.run("true", [], { signal: ac.signal });
  t.equal(already.exitCode, 130);
});

t.test("output is capped at 1 MiB", async (t) => {
  const r = await exec.run("head", ["-c", String(3 * 1024 * 1024), "/dev/zero"]);
  t.equal(r.exitCode, 0);
  t.equal(r.stdout.length, 1024 * 1024);
});

t.test("cwd is honoured", async (t) => {
  const dir = t.testdir({});
  const r = await exec.run("pwd", [], { cwd: dir });
  t.equal(r.stdout.trim(), dir);
});
