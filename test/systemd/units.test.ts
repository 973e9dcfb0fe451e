import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import t, { type Test } from "tap";

// Both units must pass `systemd-analyze verify` without a single warning. verify insists that the
// ExecStart binary exists, so it checks copies whose ExecStart points at a stand-in executable.
const UNITS = path.resolve(import.meta.dirname, "../../systemd");
const hasAnalyze = spawnSync("systemd-analyze", ["--version"]).status === 0;

function directives(unit: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const line of readFileSync(path.join(UNITS, unit), "utf8").split("\n")) {
    const m = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (m) out.set(m[1]!, [...(out.get(m[1]!) ?? []), m[2]!]);
  }
  return out;
}

function withStandIn(t: Test, unit: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), "muster-units-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const standIn = path.join(dir, "stand-in");
  writeFileSync(standIn, "#!/bin/sh\n");
  chmodSync(standIn, 0o755);
  const text = readFileSync(path.join(UNITS, unit), "utf8").replace(
    /^ExecStart=\S+/m,
    `ExecStart=${standIn}`,
  );
  const copy = path.join(dir, unit);
  writeFileSync(copy, text);
  return copy;
}

for (const unit of ["muster-agent.service", "muster-coordinator.service"]) {
  t.test(
    `${unit}: systemd-analyze verify is clean`,
    { skip: hasAnalyze ? false : "systemd-analyze not installed" },
    async (t) => {
      const r = spawnSync(
        "systemd-analyze",
        ["verify", "--man=no", "--generators=no", withStandIn(t, unit)],
        {
          encoding: "utf8",
        },
      );
      t.equal(r.status, 0, r.stderr);
      t.equal(r.stderr, "", "no warnings");
      t.equal(r.stdout, "");
    },
  );
}

t.test("the agent unit runs what the bootstrap installs, and restarts forever", async (t) => {
  const d = directives("muster-agent.service");
  t.same(d.get("ExecStart"), ["/opt/muster/current/bin/muster-agent run --config /etc/muster/agent.yaml"]);
  t.same(d.get("Restart"), ["always"]);
  t.same(d.get("RestartSec"), ["5"]);
  t.same(d.get("StartLimitIntervalSec"), ["0"]);
  t.same(d.get("UMask"), ["0077"]);
  t.same(d.get("KillMode"), ["mixed"], "a stopped agent never leaves an installer run behind");
  t.notOk(d.has("NoNewPrivileges"), "would break SELinux transitions of the RPM installer");
  t.notOk(d.has("ProtectSystem"), "the installer writes /usr/local and /etc");
  t.same(d.get("SyslogIdentifier"), ["muster-agent"]);
  t.notOk(d.has("ProtectClock"), "before systemd 253 it blocks all devices but rtc");
  t.same(d.get("CapabilityBoundingSet"), ["~CAP_SYS_TIME CAP_WAKE_ALARM"]);
  t.same(d.get("WantedBy"), ["multi-user.target"]);
});

t.test("the coordinator unit is tightly sandboxed but leaves V8's JIT alone", async (t) => {
  const d = directives("muster-coordinator.service");
  t.same(d.get("ExecStart"), ["/usr/lib/muster/bin/muster-coordinator serve --config %d/cluster.yaml"]);
  t.same(d.get("LoadCredential"), ["cluster.yaml:/etc/muster/cluster.yaml"]);
  const expected: [string, string][] = [
    ["DynamicUser", "yes"],
    ["StateDirectory", "muster"],
    ["StateDirectoryMode", "0700"],
    ["ProtectSystem", "strict"],
    ["NoNewPrivileges", "yes"],
    ["CapabilityBoundingSet", ""],
    ["PrivateDevices", "yes"],
    ["SystemCallErrorNumber", "EPERM"],
  ];
  for (const [key, value] of expected) t.same(d.get(key), [value], key);
  t.notOk(d.has("MemoryDenyWriteExecute"), "V8 needs W+X pages");
  const security = spawnSync(
    "systemd-analyze",
    ["security", "--offline=yes", withStandIn(t, "muster-coordinator.service")],
    {
      encoding: "utf8",
    },
  );
  const level = /Overall exposure level for .*: ([\d.]+)/.exec(security.stdout);
  if (hasAnalyze) t.ok(level && Number(level[1]) <= 2, `exposure ${level?.[1]} <= 2.0`);
});

t.test("units log to the journal under their own names", async (t) => {
  for (const unit of ["muster-agent.service", "muster-coordinator.service"]) {
    const d = directives(unit);
    t.same(d.get("StandardOutput"), ["journal"], unit);
    t.same(d.get("SyslogIdentifier"), [unit.replace(".service", "")], unit);
  }
});
