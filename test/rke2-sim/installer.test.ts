// The simulated installer (docs/rke2-behaviour.md "Installer") and the whole chain a node runs: install.sh from an
// air-gap directory or a mirror, then `systemctl enable --now rke2-server` on the systemctl stand-in,
// which blocks on READY=1. Each case runs in a private mount namespace with tmpfs over the system
// directories it writes, so the host is never touched.
import { execFile } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { buildArtifacts, installScriptPath, writeSystemctlWrapper } from "@muster/rke2-sim";
import t from "tap";
import { stringify } from "yaml";
import { commandExists, isRoot } from "./testkit.ts";

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function sh(args: string[], env: Record<string, string> = {}): Promise<Result> {
  return new Promise((resolve) => {
    execFile(
      args[0]!,
      args.slice(1),
      { env: { ...process.env, ...env }, timeout: 120_000 },
      (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr });
      },
    );
  });
}

const skip = !isRoot()
  ? "needs root (CI runs as root)"
  : !commandExists("unshare")
    ? "needs unshare (util-linux)"
    : !existsSync("/usr/bin/systemctl")
      ? "needs /usr/bin/systemctl to bind-mount the stand-in over"
      : false;

if (skip) {
  t.plan(0, skip);
} else {
  const root = mkdtempSync(path.join(tmpdir(), "rke2-installer-test-"));
  const arts = path.join(root, "artifacts");
  const state = path.join(root, "systemctl-state");
  const calls = path.join(root, "systemctl-calls.log");
  const dataDir = path.join(root, "rke2-data");
  t.teardown(() => {
    for (const f of ["rke2-server", "etcd"]) {
      const file = path.join(dataDir, "sim", "pids", `${f}.pid`);
      if (!existsSync(file)) continue;
      try {
        process.kill(Number(readFileSync(file, "utf8").split(" ")[0]), "SIGKILL");
      } catch {}
    }
    rmSync(root, { recursive: true, force: true });
  });

  /** Runs `body` in a fresh mount namespace with tmpfs on the given dirs and the stand-in as systemctl. */
  const inNamespace = async (
    body: string,
    env: Record<string, string> = {},
    tmpfs = ["/etc/systemd/system", "/opt"],
  ) => {
    const sim = await writeSystemctlWrapper(path.join(root, "bin", "systemctl-sim"));
    const logging = path.join(root, "bin", "systemctl");
    writeFileSync(logging, `#!/bin/sh\necho "$*" >> '${calls}'\nexec '${sim}' "$@"\n`, { mode: 0o755 });
    rmSync(calls, { force: true });
    const script = [
      "set -e",
      ...tmpfs.map((d) => `mount -t tmpfs tmpfs ${d}`),
      `mount --bind '${logging}' /usr/bin/systemctl`,
      "set +e",
      body,
    ].join("\n");
    return sh(["unshare", "--mount", "--propagation", "private", "sh", "-c", script], {
      SYSTEMCTL_SIM_STATE_DIR: state,
      INSTALL_RKE2_AGENT_IMAGES_DIR: path.join(root, "images"),
      ...env,
    });
  };
  const systemctlCalls = () => (existsSync(calls) ? readFileSync(calls, "utf8").trim().split("\n") : []);

  t.before(async () => {
    await buildArtifacts(arts);
  });

  t.test(
    "air-gap install under a prefix: files, rewritten units, daemon-reload, nothing started",
    async (t) => {
      const r = await inNamespace(
        [
          `sh '${installScriptPath}'`,
          `echo "rc=$?"`,
          "ls /opt/rke2/bin",
          "grep -h '^ExecStart=' /etc/systemd/system/rke2-server.service /etc/systemd/system/rke2-agent.service",
          "/opt/rke2/bin/rke2 --version",
          "systemctl is-active rke2-server",
          "systemctl is-enabled rke2-server",
        ].join("\n"),
        { INSTALL_RKE2_ARTIFACT_PATH: arts, INSTALL_RKE2_TAR_PREFIX: "/opt/rke2" },
      );
      t.match(r.stdout, /rc=0\n/, r.stderr);
      t.match(r.stdout, "[INFO]  staging local checksums from");
      t.match(r.stdout, "[INFO]  verifying tarball");
      t.match(r.stdout, "rke2\nrke2-killall.sh\nrke2-uninstall.sh\n");
      t.match(r.stdout, "ExecStart=/opt/rke2/bin/rke2 server\nExecStart=/opt/rke2/bin/rke2 agent\n");
      t.match(r.stdout, /rke2 version v1\.33\.5\+rke2r1 \([0-9a-f]{40}\)/);
      t.match(r.stdout, "inactive\ndisabled\n", "installed, not started, not enabled");
      t.same(
        systemctlCalls().slice(0, 1),
        ["daemon-reload"],
        "the installer's only systemctl call is daemon-reload",
      );
      t.ok(existsSync(path.join(root, "images", "rke2-images.linux-amd64.tar.zst")), "air-gap images staged");
    },
  );

  t.test("INSTALL_RKE2_SKIP_RELOAD skips daemon-reload", async (t) => {
    const r = await inNamespace(`sh '${installScriptPath}'`, {
      INSTALL_RKE2_ARTIFACT_PATH: arts,
      INSTALL_RKE2_TAR_PREFIX: "/opt/rke2",
      INSTALL_RKE2_SKIP_RELOAD: "true",
    });
    t.equal(r.code, 0, r.stderr);
    t.same(systemctlCalls(), []);
  });

  t.test("/usr/local as a mount point makes the installer fall back to /opt/rke2", async (t) => {
    const r = await inNamespace(
      `sh '${installScriptPath}' && ls /opt/rke2/bin/rke2`,
      { INSTALL_RKE2_ARTIFACT_PATH: arts },
      ["/etc/systemd/system", "/opt", "/usr/local"],
    );
    t.equal(r.code, 0, r.stderr);
    t.match(r.stderr, "[WARN]  /usr/local is read-only or a mount point; installing to /opt/rke2");
  });

  t.test("a tampered tarball fails the sha256 check and installs nothing", async (t) => {
    const bad = path.join(root, "tampered");
    await buildArtifacts(bad, { images: false });
    const tarball = path.join(bad, "rke2.linux-amd64.tar.gz");
    writeFileSync(tarball, Buffer.concat([readFileSync(tarball), Buffer.from("x")]));
    const r = await inNamespace(`sh '${installScriptPath}'; echo "rc=$?"; ls /opt/rke2/bin 2>&1 || true`, {
      INSTALL_RKE2_ARTIFACT_PATH: bad,
      INSTALL_RKE2_TAR_PREFIX: "/opt/rke2",
    });
    t.match(r.stdout, "rc=1\n");
    t.match(r.stderr, /\[ERROR\] {2}download sha256 does not match [0-9a-f]{64}, got [0-9a-f]{64}/);
    t.match(r.stdout, /No such file or directory/);
  });

  t.test("plain failures: not root, unsupported arch, no artifacts and no internet", async (t) => {
    // The checkout may sit under a directory other users cannot enter (/root, a mktemp -d folder):
    // the unprivileged run gets its own world-readable copy of the script.
    const open = mkdtempSync(path.join(tmpdir(), "rke2-installer-nobody-"));
    t.teardown(() => rmSync(open, { recursive: true, force: true }));
    chmodSync(open, 0o755);
    const script = path.join(open, "install.sh");
    copyFileSync(installScriptPath, script);
    chmodSync(script, 0o644);
    const notRoot = await sh(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "sh", script]);
    t.equal(notRoot.code, 1);
    t.match(notRoot.stderr, "[ERROR]  You need to be root to perform this install");
    // ARCH overrides `uname -m` in the real installer too.
    const arch = await sh(["sh", installScriptPath], { ARCH: "mips64" });
    t.equal(arch.code, 1);
    t.match(arch.stderr, "[ERROR]  unsupported architecture mips64");
    const offline = await sh(["sh", installScriptPath], { INSTALL_RKE2_VERSION: "v1.33.5+rke2r1" });
    t.equal(offline.code, 1);
    t.match(
      offline.stdout,
      "downloading checksums at https://github.com/rancher/rke2/releases/download/v1.33.5%2Brke2r1/sha256sum-amd64.txt",
    );
    t.match(offline.stderr, "[ERROR]  download failed");
  });

  t.test("install from a release mirror, then enable --now blocks until the server is ready", async (t) => {
    const server = http.createServer((req, res) => {
      const file = path.join(arts, path.basename(req.url ?? ""));
      if (!existsSync(file)) return void res.writeHead(404).end();
      res.writeHead(200).end(req.method === "HEAD" ? undefined : readFileSync(file));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    t.teardown(() => server.close());
    const mirror = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const ip = "127.87.3.1";
    const config = path.join(root, "config.yaml");
    writeFileSync(
      config,
      stringify({ "node-ip": ip, "bind-address": ip, "node-name": "solo", "data-dir": dataDir }),
      {
        mode: 0o600,
      },
    );
    const defaults = [
      `RKE2_CONFIG_FILE=${config}`,
      "RKE2_SIM_INIT_SECONDS=1",
      `SYSTEMCTL_SIM_STATE_DIR=${state}`,
    ].join("\n");
    const r = await inNamespace(
      [
        `sh '${installScriptPath}' || exit 9`,
        `printf '%s\\n' '${defaults}' > /etc/default/rke2-server`,
        "timeout 90 systemctl enable --now rke2-server",
        `echo "enable-rc=$?"`,
        "systemctl is-active rke2-server",
        `curl -sk https://${ip}:9345/ping; echo`,
        `curl -sk https://${ip}:6443/readyz; echo`,
        "systemctl stop rke2-server",
        `echo "stop-rc=$?"`,
        "systemctl is-active rke2-server",
        `curl -sk -m 2 https://${ip}:9345/ping || echo refused`,
      ].join("\n"),
      { INSTALL_RKE2_SIM_RELEASES_URL: mirror, INSTALL_RKE2_TAR_PREFIX: "/opt/rke2" },
      ["/etc/systemd/system", "/opt", "/etc/default"],
    );
    t.match(r.stdout, `[INFO]  using release mirror ${mirror}`, r.stderr);
    t.match(r.stdout, "enable-rc=0\nactive\npong\nok\n", "enable --now returned once the server was ready");
    t.match(r.stdout, "stop-rc=0\ninactive\nrefused\n", "stop takes rke2 and etcd down");
    t.match(r.stderr, "Created symlink /etc/systemd/system/multi-user.target.wants/rke2-server.service");
  });
}
