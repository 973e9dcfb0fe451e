// Pure parts of the simulator: config.yaml merging, tokens, unit files and Exec= command lines.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { loadValues, resolveConfig } from "@muster/rke2-sim/rke2/config";
import { caHash, formatToken, parseToken } from "@muster/rke2-sim/rke2/token";
import { commandArgv, parseEnvFile } from "@muster/rke2-sim/systemd/exec-line";
import { parseTimeSpanMs, parseUnit } from "@muster/rke2-sim/systemd/unit";
import t from "tap";

t.test("config.yaml, config.yaml.d in name order, key+ appends, unknown keys skipped, flags last", (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), "rke2-config-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, "config.yaml");
  writeFileSync(
    file,
    "node-name: first\ntls-san: [a.example]\nnode-label: [x=1]\nmystery: 1\ncluster-cidr: 10.1.0.0/16\n",
  );
  mkdirSync(`${file}.d`);
  writeFileSync(path.join(`${file}.d`, "20-b.yaml"), "node-name: last\n");
  writeFileSync(
    path.join(`${file}.d`, "10-a.yml"),
    "node-name: middle\ntls-san+: [b.example]\nnode-label: [y=2]\n",
  );
  writeFileSync(path.join(`${file}.d`, "30-ignored.txt"), "node-name: never\n");
  const { values, warnings } = loadValues("server", [
    "--config",
    file,
    "--tls-san",
    "c.example",
    "--node-ip=10.0.0.5",
  ]);
  const cfg = resolveConfig("server", values);
  t.equal(cfg.nodeName, "last", "last value wins, files in name order");
  t.same(cfg.tlsSan, ["a.example", "b.example", "c.example"], "tls-san+ appends; a flag extends the list");
  t.same(cfg.nodeLabels, ["y=2"], "a plain key replaces a list");
  t.equal(cfg.nodeIP, "10.0.0.5");
  t.equal(cfg.clusterCIDR, "10.1.0.0/16");
  t.equal(cfg.serviceCIDR, "10.43.0.0/16", "defaults");
  t.same(warnings, ["Unknown flag --mystery found in config.yaml, skipping"]);
  const agent = loadValues("agent", ["-c", file]);
  t.ok(
    agent.warnings.includes("Unknown flag --tls-san found in config.yaml, skipping"),
    "server-only keys are skipped for agents",
  );
  t.throws(
    () => loadValues("server", ["--config", file, "--nope", "1"]),
    /flag provided but not defined: -nope/,
  );
  t.end();
});

t.test("tokens", (t) => {
  const ca = "-----BEGIN CERTIFICATE-----\nabc\n-----END CERTIFICATE-----\n";
  const full = formatToken(ca, "server", "pw");
  t.match(full, /^K10[0-9a-f]{64}::server:pw$/);
  t.same(parseToken(full), { caHash: caHash(ca), username: "server", password: "pw" });
  t.same(parseToken("bare"), { caHash: null, username: "server", password: "bare" });
  t.same(parseToken("bare", "node").username, "node");
  t.throws(() => parseToken("K10abc::server:pw"), /invalid token CA hash length/);
  t.throws(() => parseToken("K10::server:"), /invalid token format/);
  t.end();
});

t.test("unit files: specifiers, lists, resets, time spans", (t) => {
  const unit = parseUnit(
    "rke2-server.service",
    "/x/rke2-server.service",
    [
      "[Unit]",
      "Description=Demo",
      "Conflicts=rke2-agent.service",
      "[Service]",
      "Type=notify",
      "EnvironmentFile=-/etc/default/%N",
      'Environment="A=1 2" B=3',
      "ExecStart=/bin/false",
      "ExecStart=",
      "ExecStart=-/usr/local/bin/rke2 server",
      "TimeoutStartSec=0",
      "RestartSec=5s",
      "Restart=always",
      "[Install]",
      "WantedBy=multi-user.target",
    ].join("\n"),
  );
  t.same(unit.environmentFiles, [{ path: "/etc/default/rke2-server", optional: true }]);
  t.same(unit.environment, [
    ["A", "1 2"],
    ["B", "3"],
  ]);
  t.same(
    unit.execStart,
    [{ command: "/usr/local/bin/rke2 server", ignoreFailure: true }],
    "ExecStart= resets the list",
  );
  t.equal(unit.timeoutStartMs, null, "TimeoutStartSec=0 waits forever");
  t.equal(unit.restartMs, 5000);
  t.same(unit.conflicts, ["rke2-agent.service"]);
  t.same(unit.wantedBy, ["multi-user.target"]);
  t.equal(parseTimeSpanMs("1min 30s"), 90_000);
  t.equal(parseTimeSpanMs("250ms"), 250);
  t.end();
});

t.test("Exec= command lines and environment files", (t) => {
  const env = { A: "x y", B: "z" };
  t.same(commandArgv(`/bin/sh -c 'echo "$A" $$B' $A \${A} "q $B"`, env), [
    "/bin/sh",
    "-c",
    'echo "x y" $B',
    "x",
    "y",
    "x y",
    "q z",
  ]);
  t.same(parseEnvFile("# c\nK=v\nQ=\"a b\"\n; c\nS='s'\n"), [
    ["K", "v"],
    ["Q", "a b"],
    ["S", "s"],
  ]);
  t.end();
});
