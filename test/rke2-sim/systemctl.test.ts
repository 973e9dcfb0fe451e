// The systemctl stand-in: Type=notify start blocks until READY=1 (systemd's datagram protocol), a
// service dying before READY fails the job, Restart=always, stop, is-active, Conflicts=, enablement.
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { journalPath, systemctlWrapperPath } from "@muster/rke2-sim";
import t from "tap";
import { commandExists, waitFor } from "./testkit.ts";

const root = mkdtempSync(path.join(tmpdir(), "systemctl-sim-test-"));
const units = path.join(root, "units");
const state = path.join(root, "state");
mkdirSync(units);
const env = { ...process.env, SYSTEMCTL_SIM_UNIT_PATH: units, SYSTEMCTL_SIM_STATE_DIR: state };

interface Result {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

function systemctl(...args: string[]): Promise<Result> {
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(systemctlWrapperPath, args, { env, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

const show = async (unit: string, prop: string) =>
  (await systemctl("show", "-p", prop, "--value", unit)).stdout.trim();

function unit(name: string, body: string): void {
  writeFileSync(path.join(units, name), body);
}

t.teardown(async () => {
  let names: string[] = [];
  try {
    names = readdirSync(path.join(state, "units")).filter((f) => f.endsWith(".json"));
  } catch {}
  for (const f of names) {
    const s = JSON.parse(readFileSync(path.join(state, "units", f), "utf8")) as {
      supervisorPid: number;
      mainPid: number;
    };
    for (const pid of [s.supervisorPid, -s.mainPid]) {
      try {
        if (pid) process.kill(pid, "SIGKILL");
      } catch {}
    }
  }
  rmSync(root, { recursive: true, force: true });
});

const canNotify = commandExists("python3") && commandExists("systemd-notify");

t.test(
  "Type=notify: start blocks until READY=1, then is-active",
  { skip: !canNotify && "needs python3 and systemd-notify" },
  async (t) => {
    unit(
      "slow.service",
      `[Unit]\nDescription=Slow notify service\n[Service]\nType=notify\nTimeoutStartSec=0\nExecStart=/bin/sh -c 'sleep 1.5; systemd-notify --ready --status=warm; exec sleep 300'\n`,
    );
    const before = await systemctl("is-active", "slow");
    t.equal(before.code, 3, "inactive before start (exit 3)");
    t.equal(before.stdout, "inactive\n");
    const r = await systemctl("start", "slow");
    t.equal(r.code, 0);
    t.ok(r.ms >= 1400, `start returned only after READY=1 (${r.ms} ms)`);
    t.equal((await systemctl("is-active", "slow")).stdout, "active\n");
    t.equal(await show("slow", "SubState"), "running");
    t.equal(await show("slow", "StatusText"), "warm", "STATUS= from the datagram is kept");
    const pid = Number(await show("slow", "MainPID"));
    t.ok(
      pid > 0 && readFileSync(`/proc/${pid}/cmdline`, "utf8").startsWith("sleep"),
      "MainPID is the service process",
    );
    const status = await systemctl("status", "slow");
    t.equal(status.code, 0);
    t.match(status.stdout, /Active: active \(running\)/);
    const stop = await systemctl("stop", "slow");
    t.equal(stop.code, 0);
    t.equal((await systemctl("is-active", "slow")).code, 3);
    await waitFor(
      "main process gone",
      () => {
        try {
          readFileSync(`/proc/${pid}/stat`);
          return false;
        } catch {
          return true;
        }
      },
      5000,
    );
  },
);

t.test(
  "a service that dies before READY=1 fails the start job",
  { skip: !canNotify && "needs python3" },
  async (t) => {
    unit(
      "dies.service",
      `[Service]\nType=notify\nExecStart=/bin/sh -c 'echo boom >&2; exit 3'\nRestart=no\n`,
    );
    const r = await systemctl("start", "dies.service");
    t.equal(r.code, 1);
    t.match(r.stderr, /Job for dies\.service failed because the control process exited with error code\./);
    const active = await systemctl("is-active", "dies");
    t.equal(active.stdout, "failed\n");
    t.equal(await show("dies", "Result"), "exit-code");
    t.match(
      readFileSync(journalPath("dies", state), "utf8"),
      /boom/,
      "service output is in the journal file",
    );
  },
);

t.test("Restart=always restarts a crashed service", { skip: !canNotify && "needs python3" }, async (t) => {
  unit(
    "crashy.service",
    `[Service]\nType=notify\nExecStart=/bin/sh -c 'systemd-notify --ready; exec sleep 300'\nRestart=always\nRestartSec=500ms\n`,
  );
  t.equal((await systemctl("start", "crashy")).code, 0);
  const first = Number(await show("crashy", "MainPID"));
  process.kill(first, "SIGKILL");
  await waitFor(
    "restarted and active again",
    async () =>
      (await show("crashy", "NRestarts")) === "1" && (await show("crashy", "ActiveState")) === "active",
  );
  const second = Number(await show("crashy", "MainPID"));
  t.not(second, first, "a new main process");
  t.equal((await systemctl("stop", "crashy")).code, 0);
  t.equal(await show("crashy", "ActiveState"), "inactive", "stop is not undone by Restart=always");
});

t.test("Conflicts= stops the other unit, in both directions", async (t) => {
  unit("server-ish.service", `[Unit]\nConflicts=agent-ish.service\n[Service]\nExecStart=/bin/sleep 300\n`);
  unit("agent-ish.service", `[Unit]\nConflicts=server-ish.service\n[Service]\nExecStart=/bin/sleep 300\n`);
  t.equal((await systemctl("start", "agent-ish")).code, 0);
  t.equal((await systemctl("start", "server-ish")).code, 0);
  t.equal((await systemctl("is-active", "server-ish", "agent-ish")).stdout, "active\ninactive\n");
  t.equal((await systemctl("start", "agent-ish")).code, 0);
  t.equal((await systemctl("is-active", "server-ish", "agent-ish")).stdout, "inactive\nactive\n");
  await systemctl("stop", "agent-ish");
});

t.test("enable/disable and is-enabled; EnvironmentFile with %N; daemon-reload", async (t) => {
  writeFileSync(path.join(root, "envy.env"), '# comment\nGREETING="hello there"\n');
  unit(
    "envy.service",
    `[Unit]\nDescription=Env\n[Service]\nEnvironmentFile=-${root}/missing-%N\nEnvironmentFile=${root}/%N.env\nExecStart=/bin/sh -c 'echo "greeting=$GREETING"; exec sleep 300'\n[Install]\nWantedBy=multi-user.target\n`,
  );
  t.equal((await systemctl("is-enabled", "envy")).stdout, "disabled\n");
  const en = await systemctl("enable", "--now", "envy");
  t.equal(en.code, 0);
  t.match(
    en.stderr,
    `Created symlink ${units}/multi-user.target.wants/envy.service → ${units}/envy.service.`,
  );
  const enabled = await systemctl("is-enabled", "envy");
  t.equal(enabled.code, 0);
  t.equal(enabled.stdout, "enabled\n");
  await waitFor(
    "env line in journal",
    () => readFileSync(journalPath("envy", state), "utf8").includes("greeting=hello there"),
    5000,
  );
  unit(
    "envy.service",
    readFileSync(path.join(units, "envy.service"), "utf8").replace("Description=Env", "Description=Changed"),
  );
  t.equal(await show("envy", "NeedDaemonReload"), "yes");
  t.equal((await systemctl("daemon-reload")).code, 0);
  t.equal(await show("envy", "NeedDaemonReload"), "no");
  t.equal(await show("envy", "Description"), "Changed");
  const dis = await systemctl("disable", "--now", "envy");
  t.match(dis.stderr, /Removed ".*multi-user\.target\.wants\/envy\.service"\./);
  t.equal((await systemctl("is-enabled", "envy")).code, 1);
  t.equal((await systemctl("is-active", "envy")).stdout, "inactive\n");
});

t.test("unknown units and verbs", async (t) => {
  const start = await systemctl("start", "nope");
  t.equal(start.code, 5);
  t.equal(start.stderr, "Failed to start nope.service: Unit nope.service not found.\n");
  t.equal((await systemctl("status", "nope")).code, 4);
  t.equal((await systemctl("frobnicate", "x")).code, 1);
});
