import { spawn, spawnSync } from "node:child_process";
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { AgentFrameSchema, CheckReportSchema } from "@muster/shared";
import t from "tap";
import { startFakeCoordinator, welcome } from "./helpers/fake-coordinator.ts";

const CLI = fileURLToPath(new URL("../../packages/agent/src/cli.ts", import.meta.url));
const run = (...args: string[]) =>
  spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", timeout: 30_000 });

// How long a check run takes is a benchmark figure (npm run bench:agent), not a test assertion.
t.test("check --json on this machine: exactly {ok, checks}, schema-valid, honest", async (t) => {
  const r = run("check", "--json");
  const report = JSON.parse(r.stdout);
  t.same(Object.keys(report).sort(), ["checks", "ok"]);
  t.ok(CheckReportSchema.safeParse(report).success, "schema-valid");
  for (const c of report.checks)
    t.same(
      Object.keys(c).filter((k) => !["name", "status", "message", "fix"].includes(k)),
      [],
    );
  t.equal(r.status, report.ok ? 0 : 1, "exit code follows ok");
  t.equal(report.ok, !report.checks.some((c: { status: string }) => c.status === "fail"));
  const byName = Object.fromEntries(report.checks.map((c: { name: string }) => [c.name, c]));
  t.equal(byName.root.status, process.getuid?.() === 0 ? "pass" : "fail", "root reflects this process");
  t.match(byName.cpu.message, new RegExp(`^${os.cpus().length} CPUs`), "cpu count is this machine's");
  t.match(byName.hostname.message, os.hostname().toLowerCase(), "hostname is this machine's");
  const swapKb = Number(/SwapTotal:\s+(\d+)/.exec(readFileSync("/proc/meminfo", "utf8"))?.[1] ?? 0);
  t.equal(byName.swap.status, swapKb === 0 ? "pass" : "warn", "swap reflects /proc/meminfo");
});

t.test("check --interface without --vip: the interface must exist, be up and have an IPv4", async (t) => {
  const missing = run("check", "--interface", "nosuchif0", "--json");
  const report = JSON.parse(missing.stdout);
  const iface = report.checks.find((c: { name: string }) => c.name === "interface");
  t.equal(iface.status, "fail");
  t.match(iface.message, /^interface nosuchif0 does not exist on this node \(it has: .*lo/);
  t.equal(missing.status, 1, "a missing interface fails the run");
  const lo = JSON.parse(run("check", "--interface", "lo", "--json").stdout);
  const loCheck = lo.checks.find((c: { name: string }) => c.name === "interface");
  t.equal(loCheck.status, "pass");
  t.match(loCheck.message, "interface lo is up with 127.0.0.1/8");
});

t.test("check --role server measures etcd's disk; an agent does not", async (t) => {
  const server = JSON.parse(run("check", "--json").stdout);
  const disk = server.checks.find((c: { name: string }) => c.name === "etcd-disk");
  t.match(disk.status, /^(pass|warn)$/);
  t.match(disk.message, /^fdatasync p99 [\d.]+ ms, p50 [\d.]+ ms \(\d+ writes of 2300 bytes under \//);
  const agent = JSON.parse(run("check", "--role", "agent", "--json").stdout);
  t.notOk(agent.checks.some((c: { name: string }) => c.name === "etcd-disk"));
});

t.test("check: human table with every check and a verdict", async (t) => {
  const r = run("check", "--role", "agent");
  t.match(r.stdout, /^STATUS\s+CHECK\s+MESSAGE/);
  for (const name of [
    "root",
    "os-arch",
    "cpu",
    "memory",
    "disk",
    "swap",
    "ports",
    "firewall",
    "hostname",
    "rke2-existing",
  ])
    t.match(r.stdout, new RegExp(`\\n(PASS|WARN|FAIL)\\s+${name}\\s`), name);
  t.match(r.stdout, /agent ports 10250/);
  t.match(r.stdout, /\n(ok|not ok): /);
});

t.test("bad flags and values: one line naming them, exit 2", async (t) => {
  const cases: Array<[string[], RegExp]> = [
    [["check", "--role", "boss"], /--role must be server or agent \(got "boss"\)/],
    [["check", "--vip", "10.0.0"], /--vip must be an IPv4 address/],
    [["check", "--interface", "this-name-is-too-long"], /--interface must be a network interface name/],
    [["check", "--frobnicate"], /unknown flag --frobnicate/],
    [["check", "--role"], /--role/],
    [["run", "--config", "relative.yaml"], /--config must be an absolute path/],
    [["dance"], /unknown command "dance"/],
  ];
  for (const [args, re] of cases) {
    const r = run(...args);
    t.equal(r.status, 2, args.join(" "));
    t.match(r.stderr, re);
    t.equal(r.stderr.trim().split("\n").length, 1, "one line");
  }
});

t.test("--help and --version", async (t) => {
  const h = run("--help");
  t.equal(h.status, 0);
  t.match(h.stdout, /muster-agent run \[--config \/etc\/muster\/agent\.yaml\]/);
  t.match(h.stdout, /muster-agent check \[--role server\|agent\] \[--interface IF\] \[--vip IP\] \[--json\]/);
  t.equal(run("check", "--help").status, 0);
  const v = run("--version");
  t.match(v.stdout, /^muster-agent \d+\.\d+\.\d+/);
});

t.test("run refuses a group/world-readable config with the chmod fix", async (t) => {
  const dir = t.testdir();
  const file = path.join(dir, "agent.yaml");
  writeFileSync(
    file,
    `coordinatorUrl: https://127.0.0.1:1\npin: "sha256//${"A".repeat(43)}="\njoinToken: abcdef.0123456789abcdef\n`,
  );
  chmodSync(file, 0o644);
  const r = run("run", "--config", file);
  t.equal(r.status, 1);
  t.match(r.stderr, new RegExp(`chmod 600 ${file.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}`));
});

t.test("run: enrols with this machine's facts; SIGTERM closes 1000 and exits 0", async (t) => {
  const fc = await startFakeCoordinator();
  t.teardown(() => fc.close());
  const dir = t.testdir();
  const file = path.join(dir, "agent.yaml");
  writeFileSync(
    file,
    `coordinatorUrl: ${fc.url}\npin: "${fc.cert.pin}"\njoinToken: abcdef.0123456789abcdef\nstateDir: ${dir}/state\n`,
    { mode: 0o600 },
  );
  const child = spawn(process.execPath, [CLI, "run", "--config", file], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, MUSTER_LOG_LEVEL: "warn" },
  });
  const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  t.teardown(() => child.kill("SIGKILL"));
  const enrol = await fc.next((f) => f.type === "enrol", 15_000);
  t.ok(AgentFrameSchema.safeParse(enrol).success, "real facts make a schema-valid enrol");
  t.equal((enrol.facts as { hostname: string }).hostname, os.hostname());
  fc.sockets[0]!.send(JSON.stringify(welcome("cli-node", "cli-credential-0123456789")));
  await new Promise((r) => setTimeout(r, 300));
  child.kill("SIGTERM");
  t.equal(await exited, 0);
  t.same(
    fc.stats.closes.map((c) => c.code),
    [1000],
  );
});
