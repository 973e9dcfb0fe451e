import { execFileSync } from "node:child_process";
import {
  existsSync,
  lstatSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { renderBootstrapScript } from "@muster/coordinator/transport/delivery/bootstrap-script";
import { AgentConfigSchema } from "@muster/shared";
import t, { type Test } from "tap";
import YAML from "yaml";
import {
  enrolledServers,
  startFakeCoordinator,
  TOKENS,
  verifiedMachineIds,
  writeTestBundle,
} from "./helpers/fake-coordinator.ts";
import { ScratchRoot } from "./helpers/scratch-root.ts";
import { makeTestTls, WRONG_PIN } from "./helpers/tls-cert.ts";

// The curl-bash bootstrap end to end, exactly as the contract spells it: curl through the pin, piped
// into sh, as root, against a scratch root (private mount namespace, see helpers/scratch-root.ts).
const isRoot = process.getuid?.() === 0;
const skip = isRoot ? false : "needs root: runs the bootstrap in a private mount namespace";
// The scratch root shows the host's /etc: its machine id is what the bootstrap reads.
const hostMachineId = (() => {
  const id = (existsSync("/etc/machine-id") ? readFileSync("/etc/machine-id", "utf8") : "")
    .trim()
    .toLowerCase();
  return /^[0-9a-f]{32}$/.test(id) ? id : null;
})();

// dash is Debian's /bin/sh; bash (in sh mode) is the RHEL family's.
for (const shell of ["dash", "bash"]) {
  t.test(`bootstrap.sh end to end (${shell})`, { skip }, async (t) => {
    const tls = makeTestTls();
    const artifacts = mkdtempSync(path.join(tmpdir(), "muster-artifacts-"));
    let sha = writeTestBundle(artifacts, "1.0.0");
    const coord = await startFakeCoordinator(tls, artifacts);
    const root = new ScratchRoot();
    t.teardown(async () => {
      await coord.close();
      root.remove();
      rmSync(artifacts, { recursive: true, force: true });
    });
    const UNIT = readFileSync(
      path.resolve(import.meta.dirname, "../../../../systemd/muster-agent.service"),
      "utf8",
    );
    // The contract's one-liner, minus sudo: pin and URL come first, the rest are the script's flags.
    const CURL_BASH =
      'p=$1 u=$2; shift 2; curl -fsSL -k --pinnedpubkey "$p" "$u/v1/bootstrap.sh" | sh -s - "$@"';
    const bootstrap = (args: string[], opts: { pin?: string; asNobody?: boolean } = {}) =>
      root.run(CURL_BASH, [opts.pin ?? tls.pin, coord.url, ...args], { asNobody: opts.asNobody });
    const untouched = (t: Test) => {
      t.same(root.written(), [], "nothing written to /etc, /opt or /var/lib");
      t.same(root.systemctlCalls(), [], "systemctl not called");
      t.same(root.leftoverTemp(), [], "temp dir removed");
    };

    await t.test("the rendered script is shellcheck -s sh clean", async (t) => {
      const rendered = renderBootstrapScript({
        coordinatorUrl: coord.url,
        pin: tls.pin,
        checksums: { amd64: sha },
        agentVersion: "1.0.0",
      });
      const file = path.join(root.dir, "bootstrap.sh");
      writeFileSync(file, rendered);
      t.equal(execFileSync("shellcheck", ["-s", "sh", file], { encoding: "utf8" }), "");
    });

    await t.test("not root: clear error, exit 1, nothing changed", async (t) => {
      const r = await bootstrap(["--token", TOKENS.server], { asNobody: true });
      t.equal(r.code, 1);
      t.match(r.stderr, /muster-bootstrap: error: must run as root/);
      untouched(t);
    });

    await t.test("unknown flag: usage, exit 2", async (t) => {
      const r = await bootstrap(["--tokn", TOKENS.server]);
      t.equal(r.code, 2);
      t.match(r.stderr, /unknown flag: --tokn/);
      t.match(r.stderr, /usage:/);
      const bad = await bootstrap(["--token", "nope"]);
      t.equal(bad.code, 2);
      t.match(bad.stderr, /--token: not a join token/);
      untouched(t);
    });

    await t.test("wrong pin on the download: curl refuses, nothing runs", async (t) => {
      const r = await bootstrap(["--token", TOKENS.server], { pin: WRONG_PIN });
      t.match(r.stderr, /public key does not match pinned/);
      untouched(t);
    });

    await t.test(
      "script whose pin does not match the coordinator: stops before changing anything",
      async (t) => {
        const script = renderBootstrapScript({
          coordinatorUrl: coord.url,
          pin: WRONG_PIN,
          checksums: { amd64: sha },
          agentVersion: "1",
        });
        const r = await root.run(`${shell} -s - "$@"`, ["--token", TOKENS.server], { input: script });
        t.equal(r.code, 1);
        t.match(r.stderr, /does not match the pin .*nothing was changed/);
        untouched(t);
      },
    );

    await t.test("coordinator unreachable: clear error", async (t) => {
      const script = renderBootstrapScript({
        coordinatorUrl: "https://127.0.0.1:9",
        pin: tls.pin,
        checksums: { amd64: sha },
        agentVersion: "1",
      });
      const r = await root.run(`${shell} -s - "$@"`, ["--token", TOKENS.server], { input: script });
      t.equal(r.code, 1);
      t.match(r.stderr, /cannot reach the coordinator at https:\/\/127\.0\.0\.1:9/);
      untouched(t);
    });

    await t.test(
      "unknown, expired or revoked token: the coordinator's reason, nothing changed",
      async (t) => {
        for (const [token, reason] of [
          [TOKENS.unknown, /unknown join token/],
          [TOKENS.expired, /has expired/],
          [TOKENS.revoked, /was revoked/],
        ] as const) {
          const r = await bootstrap(["--token", token]);
          t.equal(r.code, 1);
          t.match(r.stderr, /the coordinator rejected the join token: /);
          t.match(r.stderr, reason);
        }
        untouched(t);
      },
    );

    await t.test(
      "a machine enrolled as a server offered an agent token: refused with the reason, nothing changed",
      { skip: hostMachineId === null ? "this host has no /etc/machine-id" : false },
      async (t) => {
        verifiedMachineIds.length = 0;
        enrolledServers.add(hostMachineId!);
        t.teardown(() => enrolledServers.clear());
        const r = await bootstrap(["--token", TOKENS.agent]);
        t.same(verifiedMachineIds, [hostMachineId], "the bootstrap sent this machine's id");
        t.equal(r.code, 1);
        t.match(
          r.stderr,
          /the coordinator refused this machine: this machine is already enrolled as server s0; an agent join token cannot re-enrol it; use a join token for its role; nothing was changed/,
        );
        untouched(t);
      },
    );

    await t.test("tampered bundle: checksum mismatch, nothing changed", async (t) => {
      const file = path.join(artifacts, "muster-agent-linux-amd64.tar.gz");
      const good = readFileSync(file);
      writeFileSync(file, Buffer.concat([good, Buffer.from("x")]));
      const r = await bootstrap(["--token", TOKENS.server]);
      writeFileSync(file, good);
      t.equal(r.code, 1);
      t.match(r.stderr, new RegExp(`checksum mismatch .*expected ${sha}`));
      untouched(t);
    });

    await t.test(
      "success: installs the release, 0600 config, the unit, and enables the service",
      async (t) => {
        const r = await bootstrap(["--token", TOKENS.server, "--node-name", "s1", "--address", "10.0.0.11"]);
        t.equal(r.code, 0, r.stderr);
        t.match(r.stdout, /join token accepted: this node joins as server/);
        // Progress from the first second, in order, each step saying what it did.
        const steps = [
          /^muster-bootstrap: preflight ok: root, amd64, systemd/,
          /^muster-bootstrap: checking the join token with the coordinator at https:/,
          /^muster-bootstrap: join token accepted/,
          /^muster-bootstrap: downloading muster-agent-linux-amd64\.tar\.gz \(muster agent /,
          /^muster-bootstrap: downloaded muster-agent-linux-amd64\.tar\.gz: \d+ MiB \(\d+ bytes\) in \d+ s$/,
          new RegExp(`^muster-bootstrap: sha256 ${sha} matches the coordinator's checksum$`),
          /^muster-bootstrap: unpacking into \/opt\/muster\/releases\//,
          /^muster-bootstrap: installed muster agent/,
          /^muster-bootstrap: wrote \/etc\/muster\/agent\.yaml$/,
          /^muster-bootstrap: installing \/etc\/systemd\/system\/muster-agent\.service$/,
          /^muster-bootstrap: starting muster-agent\.service: /,
          /^muster-bootstrap: started muster-agent\.service/,
        ];
        const lines = r.stdout.split("\n").filter(Boolean);
        t.same(
          lines.map((l) => steps.findIndex((re) => re.test(l))),
          steps.map((_, i) => i),
          "one progress line per step, in order",
          { lines },
        );
        // The join token is a secret: no line of the bootstrap's output carries it.
        t.notOk(`${r.stdout}${r.stderr}`.includes(TOKENS.server), "the join token is never printed");
        t.notOk(`${r.stdout}${r.stderr}`.includes(TOKENS.server.split(".")[1]!), "nor its secret half");
        t.equal(readlinkSync(root.upper("/opt/muster/current")), `releases/${sha}`);
        t.equal(statSync(root.upper(`/opt/muster/releases/${sha}/bin/muster-agent`)).mode & 0o777, 0o755);
        const conf = root.upper("/etc/muster/agent.yaml");
        t.equal(statSync(conf).mode & 0o777, 0o600);
        t.equal(statSync(root.upper("/etc/muster")).mode & 0o077, 0, "/etc/muster private");
        t.equal(
          readFileSync(conf, "utf8"),
          `coordinatorUrl: "${coord.url}"\npin: "${tls.pin}"\njoinToken: "${TOKENS.server}"\nnodeName: "s1"\naddress: "10.0.0.11"\n`,
        );
        const parsed = AgentConfigSchema.parse(YAML.parse(readFileSync(conf, "utf8")));
        t.equal(parsed.joinToken, TOKENS.server, "the agent's own schema accepts what the bootstrap wrote");
        const unit = root.upper("/etc/systemd/system/muster-agent.service");
        t.equal(readFileSync(unit, "utf8"), UNIT);
        t.equal(statSync(unit).mode & 0o777, 0o644);
        t.same(root.systemctlCalls(), ["daemon-reload", "enable --now muster-agent"]);
        t.same(root.leftoverTemp(), []);
      },
    );

    await t.test("re-run with the same bundle after enrolment: no-op, credential kept", async (t) => {
      // What the agent does after enrolling: its own credential replaces the join token.
      const conf = root.upper("/etc/muster/agent.yaml");
      const enrolled = `coordinatorUrl: "${coord.url}"\npin: "${tls.pin}"\nnode: s1\ncredential: ${"c".repeat(43)}\n`;
      writeFileSync(conf, enrolled, { mode: 0o600 });
      const before = statSync(conf);
      root.clearSystemctlLog();
      const r = await bootstrap(["--token", TOKENS.server]);
      t.equal(r.code, 0, r.stderr);
      t.match(r.stdout, /already enrolled; keeping/);
      t.match(r.stdout, /already installed and running: nothing to do/);
      t.equal(readFileSync(conf, "utf8"), enrolled);
      t.equal(statSync(conf).mtimeMs, before.mtimeMs, "agent.yaml not rewritten");
      t.same(root.systemctlCalls(), ["is-enabled --quiet muster-agent", "is-active --quiet muster-agent"]);
    });

    await t.test("an enrolled node re-runs fine with an expired token", async (t) => {
      root.clearSystemctlLog();
      const r = await bootstrap(["--token", TOKENS.expired]);
      t.equal(r.code, 0, r.stderr);
      t.match(r.stdout, /warning: the coordinator rejected the join token \(join token expird has expired\)/);
      t.notMatch(root.systemctlCalls().join("\n"), /restart/);
    });

    await t.test("a new bundle upgrades: new release, current switched, service restarted", async (t) => {
      const old = sha;
      sha = writeTestBundle(artifacts, "2.0.0");
      t.not(sha, old);
      root.clearSystemctlLog();
      const r = await bootstrap(["--token", TOKENS.server]);
      t.equal(r.code, 0, r.stderr);
      t.match(r.stdout, /upgraded: restarted muster-agent\.service/);
      t.equal(readlinkSync(root.upper("/opt/muster/current")), `releases/${sha}`);
      t.ok(
        lstatSync(root.upper(`/opt/muster/releases/${old}`)).isDirectory(),
        "previous release kept for rollback",
      );
      t.match(readFileSync(root.upper("/etc/muster/agent.yaml"), "utf8"), /credential: c{43}/);
      t.same(root.systemctlCalls(), ["enable muster-agent", "restart muster-agent"]);
    });

    await t.test("--uninstall removes the agent and says RKE2 stays", async (t) => {
      root.clearSystemctlLog();
      const r = await bootstrap(["--uninstall"]);
      t.equal(r.code, 0, r.stderr);
      t.match(r.stdout, /RKE2 was NOT uninstalled: .*rke2-uninstall\.sh/);
      t.same(root.systemctlCalls(), ["disable --now muster-agent", "daemon-reload"]);
      const gone = await root.run(
        "for p in /opt/muster /etc/muster/agent.yaml /var/lib/muster/agent /etc/systemd/system/muster-agent.service; do [ ! -e $p ] || echo $p; done",
      );
      t.equal(gone.stdout, "", "nothing left");
      const again = await bootstrap(["--uninstall"]);
      t.equal(again.code, 0, "uninstalling twice is fine");
    });
  });
}
