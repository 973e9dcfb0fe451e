// A fake host that behaves like RKE2 from the agent's point of view: the "installer" drops the
// binary and unit files, `systemctl enable --now` makes the node ready (and, on a server without a
// token in its config, writes the generated token file 0600), and the probe endpoints answer.
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { createFiles } from "@muster/agent/adapters/files";
import type { ExecResult, HostAdapters, HttpResponse } from "@muster/agent/adapters/types";
import { formatRke2Token, type NodeFacts } from "@muster/shared";
import { failed, fakeDisk, fakeEtcd, fakeKubectl, fakePorts, ok, sampleFacts } from "./fakes.ts";

export const FAKE_CA = "-----BEGIN CERTIFICATE-----\nZmFrZSBya2UyIGNh\n-----END CERTIFICATE-----\n";
export const FAKE_TOKEN = formatRke2Token(FAKE_CA, "0123456789abcdef0123456789abcdef");
export const INSTALLER = "#!/bin/sh\n# fake get.rke2.io\n";

export interface FakeRke2Options {
  facts?: NodeFacts;
  version?: string;
  /** Installer stderr + exit code to fail with. */
  installerFails?: { exitCode: number; stderr: string };
  /** How many /db/info polls report this node as a learner before it is promoted. */
  learnerPolls?: number;
}

export interface FakeRke2 {
  host: HostAdapters;
  root: string;
  log: string[];
  units: Map<string, { active: boolean; enabled: boolean }>;
}

export function fakeRke2Host(root: string, o: FakeRke2Options = {}): FakeRke2 {
  const files = createFiles(root);
  const version = o.version ?? "v1.33.5+rke2r1";
  const facts = o.facts ?? sampleFacts();
  const units = new Map<string, { active: boolean; enabled: boolean }>();
  const log: string[] = [];
  let installed = false;
  let learnerPolls = o.learnerPolls ?? 0;
  const put = (p: string, content: string, mode = 0o644) => {
    mkdirSync(path.dirname(path.join(root, p)), { recursive: true });
    writeFileSync(path.join(root, p), content, { mode });
  };

  const exec = {
    async run(
      cmd: string,
      args: readonly string[],
      opts: { env?: Record<string, string> } = {},
    ): Promise<ExecResult> {
      log.push(`exec ${path.basename(cmd)} ${args.map((a) => path.basename(a)).join(" ")}`);
      if (cmd === "sh") {
        if (o.installerFails) return { ...failed(o.installerFails.exitCode, o.installerFails.stderr) };
        const type = opts.env?.["INSTALL_RKE2_TYPE"] ?? "server";
        put("/usr/local/bin/rke2", "#!/bin/sh\n", 0o755);
        put("/usr/local/lib/systemd/system/rke2-server.service", "[Unit]\n");
        put("/usr/local/lib/systemd/system/rke2-agent.service", "[Unit]\n");
        installed = true;
        return ok(`[INFO]  installed rke2 ${type}\n`);
      }
      if (cmd.endsWith("/bin/rke2") && args[0] === "--version" && installed)
        return ok(`rke2 version ${version} (fake)\ngo version go1.24\n`);
      return failed(127, `${cmd}: not found`);
    },
  };

  const unit = (u: string) => units.get(u) ?? { active: false, enabled: false };
  const start = async (u: string): Promise<ExecResult> => {
    log.push(`systemctl enable --now ${u}`);
    if (!installed) return failed(5, `Failed to enable unit: Unit file ${u}.service does not exist.`);
    const config = (await files.readTextIfExists("/etc/rancher/rke2/config.yaml")) ?? "";
    if (u === "rke2-server" && !/^token:/m.test(config))
      put("/var/lib/rancher/rke2/server/token", `${FAKE_TOKEN}\n`, 0o600);
    units.set(u, { active: true, enabled: true });
    return ok();
  };
  const systemd = {
    isActive: async (u: string) => unit(u).active,
    isEnabled: async (u: string) => unit(u).enabled,
    enableNow: (u: string) => start(u),
    restart: (u: string) => start(u),
    start: (u: string) => start(u),
    stop: async (u: string) => {
      units.set(u, { ...unit(u), active: false });
      return ok();
    },
  };

  const up = () => unit("rke2-server").active || unit("rke2-agent").active;
  const answer = (body: string): HttpResponse => (up() ? { status: 200, body } : { status: 503, body: "" });
  const http = {
    async get(url: string): Promise<HttpResponse> {
      const u = new URL(url);
      if (!up() && u.hostname === "127.0.0.1") throw new Error(`connect ECONNREFUSED ${u.host}`);
      if (u.pathname === "/cacerts") return { status: 200, body: FAKE_CA };
      if (u.pathname === "/ping") return answer("pong");
      if (u.pathname === "/readyz" || u.pathname === "/healthz") return answer("ok");
      if (u.pathname === "/db/info") {
        const learner = learnerPolls-- > 0;
        const peer = `https://${facts.address}:2380`;
        return answer(
          JSON.stringify({
            members: [
              {
                ID: 1,
                name: `${facts.hostname}-1a2b3c4d`,
                peerURLs: [peer],
                ...(learner ? { isLearner: true } : {}),
              },
            ],
          }),
        );
      }
      return { status: 404, body: "404 page not found" };
    },
    async download(url: string, dest: string, opts: { mode?: number } = {}) {
      log.push(`download ${url}`);
      writeFileSync(dest, INSTALLER, { mode: opts.mode ?? 0o600 });
      return { status: 200 };
    },
  };

  const host: HostAdapters = {
    exec,
    files,
    systemd,
    facts: { collect: async () => facts },
    arp: {
      probeInUse: async () => ({ status: "silent", detail: "" }),
      probeReachable: async () => ({ status: "answered", detail: "" }),
      owners: async () => ({ ok: true, macs: [] }),
      neighbours: async () => new Map(),
    },
    http,
    identity: { uid: 0 },
    etcd: fakeEtcd({ members: [], localId: "1", down: true }).etcd,
    kubectl: fakeKubectl(undefined, { presence: { kubectl: false, kubeconfig: false } }).kubectl,
    ports: fakePorts().ports,
    disk: fakeDisk().disk,
  };
  return { host, root, log, units };
}
