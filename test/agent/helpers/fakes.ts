// Fake host adapters for agent tests: scripted exec/systemd/arp/http, canned facts, and the real
// files adapter rooted in a t.testdir() so nothing touches the real /etc.

import { writeFile } from "node:fs/promises";
import { Writable } from "node:stream";
import type { DiskLatency } from "@muster/agent/adapters/disk-latency";
import {
  type EtcdClient,
  type EtcdConnection,
  EtcdError,
  type EtcdMemberInfo,
} from "@muster/agent/adapters/etcd";
import { createFiles } from "@muster/agent/adapters/files";
import type { Kubectl, KubectlPresence } from "@muster/agent/adapters/kubectl";
import type { PortProbe, PortProber } from "@muster/agent/adapters/ports";
import type {
  Arp,
  ArpOutcome,
  Exec,
  ExecOptions,
  ExecResult,
  HostAdapters,
  Http,
  HttpGetOptions,
  HttpResponse,
  Systemd,
} from "@muster/agent/adapters/types";
import {
  createLogger,
  type Logger,
  type NodeFacts,
  type NodePlan,
  type PlanBody,
  sealPlan,
} from "@muster/shared";

export const ok = (stdout = ""): ExecResult => ({ exitCode: 0, stdout, stderr: "", timedOut: false });
export const failed = (exitCode: number, stderr = ""): ExecResult => ({
  exitCode,
  stdout: "",
  stderr,
  timedOut: false,
});

export interface ExecCall {
  cmd: string;
  args: readonly string[];
  opts: ExecOptions;
}

export function fakeExec(
  handler: (
    cmd: string,
    args: readonly string[],
    opts: ExecOptions,
  ) => ExecResult | Promise<ExecResult> = () => failed(127, "not found"),
) {
  const calls: ExecCall[] = [];
  const exec: Exec = {
    async run(cmd, args, opts = {}) {
      calls.push({ cmd, args, opts });
      return handler(cmd, args, opts);
    },
  };
  return { exec, calls };
}

export interface UnitState {
  active: boolean;
  enabled: boolean;
}

export function fakeSystemd(
  units: Record<string, Partial<UnitState>> = {},
  onStart?: (unit: string) => ExecResult | Promise<ExecResult>,
) {
  const state = new Map<string, UnitState>(
    Object.entries(units).map(([k, v]) => [k, { active: v.active ?? false, enabled: v.enabled ?? false }]),
  );
  const get = (u: string) => state.get(u) ?? { active: false, enabled: false };
  const calls: string[] = [];
  const systemd: Systemd = {
    isActive: async (u) => get(u).active,
    isEnabled: async (u) => get(u).enabled,
    async enableNow(u) {
      calls.push(`enable --now ${u}`);
      const r = onStart ? await onStart(u) : ok();
      if (r.exitCode === 0) state.set(u, { active: true, enabled: true });
      return r;
    },
    async restart(u) {
      calls.push(`restart ${u}`);
      const r = onStart ? await onStart(u) : ok();
      if (r.exitCode === 0) state.set(u, { ...get(u), active: true });
      return r;
    },
    async stop(u) {
      calls.push(`stop ${u}`);
      state.set(u, { ...get(u), active: false });
      return ok();
    },
    async start(u) {
      calls.push(`start ${u}`);
      const r = onStart ? await onStart(u) : ok();
      if (r.exitCode === 0) state.set(u, { ...get(u), active: true });
      return r;
    },
  };
  return { systemd, state, calls };
}

/**
 * ARP answers by address; `owners` lists who answers (default: one MAC when "answered");
 * `neighbours`: the neighbour table (MAC -> addresses).
 */
export function fakeArp(
  answers: Record<string, ArpOutcome["status"]> = {},
  owners: Record<string, string[]> = {},
  neighbours: Record<string, string[]> = {},
) {
  const calls: string[] = [];
  const outcome = (ip: string): ArpOutcome => ({
    status: answers[ip] ?? "silent",
    detail: answers[ip] === "error" ? "arping: permission denied" : "",
  });
  const arp: Arp = {
    probeInUse: async (iface, ip) => {
      calls.push(`in-use ${iface} ${ip}`);
      return outcome(ip);
    },
    probeReachable: async (iface, ip) => {
      calls.push(`reachable ${iface} ${ip}`);
      return outcome(ip);
    },
    owners: async (iface, ip) => {
      calls.push(`owners ${iface} ${ip}`);
      if (answers[ip] === "error") return { ok: false, detail: "arping: permission denied" };
      return { ok: true, macs: owners[ip] ?? (answers[ip] === "answered" ? ["02:00:00:00:00:99"] : []) };
    },
    neighbours: async () => new Map(Object.entries(neighbours)),
  };
  return { arp, calls };
}

export type Route = HttpResponse | ((opts: HttpGetOptions) => HttpResponse | Promise<HttpResponse>);

/** GETs answered from a url -> response table (missing: ECONNREFUSED); downloads from `files`. */
export function fakeHttp(
  routes: Record<string, Route> = {},
  downloads: Record<string, string | number> = {},
) {
  const gets: Array<{ url: string; opts: HttpGetOptions }> = [];
  const fetched: string[] = [];
  const http: Http = {
    async get(url, opts = {}) {
      gets.push({ url, opts });
      const r = routes[url];
      if (!r) throw new Error(`connect ECONNREFUSED ${url}`);
      return typeof r === "function" ? r(opts) : r;
    },
    async download(url, dest, opts = {}) {
      fetched.push(url);
      const body = downloads[url];
      if (body === undefined) return { status: 404 };
      if (typeof body === "number") return { status: body };
      await writeFile(dest, body, { mode: opts.mode ?? 0o600 });
      return { status: 200 };
    },
  };
  return { http, gets, fetched };
}

export function sampleFacts(over: Partial<NodeFacts> = {}): NodeFacts {
  return {
    hostname: "node-1",
    machineId: "0123456789abcdef0123456789abcdef",
    os: { platform: "linux", distro: "Debian GNU/Linux", release: "12", kernel: "6.1.0", arch: "amd64" },
    cpus: 4,
    memoryBytes: 8 * 1024 ** 3,
    diskFreeBytes: 100 * 1024 ** 3,
    swapBytes: 0,
    interfaces: [
      { name: "lo", up: true, mac: "00:00:00:00:00:00", ipv4: [{ address: "127.0.0.1", prefix: 8 }] },
      { name: "eth0", up: true, mac: "02:00:00:00:00:01", ipv4: [{ address: "10.0.0.11", prefix: 24 }] },
    ],
    defaultRoute: { interface: "eth0", gateway: "10.0.0.1" },
    address: "10.0.0.11",
    rke2: { installed: false },
    ...over,
  };
}

/**
 * An etcd cluster as the gateway shows it: each member answers at its first client URL (this node's
 * at the loopback endpoint); only the leader accepts MoveLeader, as etcd does ("not leader").
 */
export interface FakeEtcdState {
  members: EtcdMemberInfo[];
  leaderId: string | null;
  localId: string;
  tls: boolean;
  /** Nothing listens: every call fails to connect. */
  down: boolean;
  /** Members whose machine is gone: calls to their client URL fail to connect. */
  dead: Set<string>;
}

export function fakeEtcd(init: Partial<FakeEtcdState> & Pick<FakeEtcdState, "members" | "localId">) {
  const state: FakeEtcdState = {
    leaderId: init.localId,
    tls: false,
    down: false,
    dead: new Set(),
    ...init,
  };
  const calls: string[] = [];
  const etcd: EtcdClient = {
    async connect(): Promise<EtcdConnection> {
      const scheme = state.tls ? "https:" : "http:";
      const local = `${scheme}//127.0.0.1:2379`;
      const memberAt = (endpoint = local) => {
        if (state.down) throw new Error(`etcd at ${endpoint}: connect ECONNREFUSED`);
        const m =
          endpoint === local
            ? state.members.find((x) => x.id === state.localId)
            : state.members.find((x) => x.clientURLs[0] === endpoint);
        if (!m || state.dead.has(m.id)) throw new Error(`etcd at ${endpoint}: connect ECONNREFUSED`);
        return m;
      };
      return {
        tls: state.tls,
        local,
        allows: (url) => url.startsWith(scheme),
        async memberList(endpoint) {
          calls.push(`member list @${endpoint ?? "local"}`);
          memberAt(endpoint);
          return structuredClone(state.members);
        },
        async status(endpoint) {
          calls.push(`status @${endpoint ?? "local"}`);
          return { memberId: memberAt(endpoint).id, leaderId: state.leaderId };
        },
        async moveLeader(targetId, endpoint) {
          calls.push(`move-leader ${targetId} @${endpoint ?? "local"}`);
          if (memberAt(endpoint).id !== state.leaderId) throw new EtcdError("etcdserver: not leader");
          state.leaderId = targetId;
        },
        async memberRemove(id, endpoint) {
          calls.push(`member remove ${id} @${endpoint ?? "local"}`);
          memberAt(endpoint);
          if (!state.members.some((m) => m.id === id)) throw new EtcdError("etcdserver: member not found");
          state.members = state.members.filter((m) => m.id !== id);
        },
      };
    },
  };
  return { etcd, state, calls };
}

/** kubectl answered by `handler` (args without --kubeconfig); presence and kubeconfig as given. */
export function fakeKubectl(
  handler: (args: readonly string[]) => ExecResult | Promise<ExecResult> = () => ok(),
  o: { presence?: Partial<KubectlPresence>; kubeconfig?: string | null } = {},
) {
  const calls: string[][] = [];
  const presence = { kubectl: true, kubeconfig: true, ...o.presence };
  const kubectl: Kubectl = {
    present: async () => presence,
    async run(args) {
      calls.push([...args]);
      return handler(args);
    },
    readKubeconfig: async () => (presence.kubeconfig ? (o.kubeconfig ?? "apiVersion: v1\n") : null),
  };
  return { kubectl, calls };
}

/** Port probes answered from an "address:port/proto" -> result table (missing: refused). */
export function fakePorts(table: Record<string, PortProbe> = {}) {
  const calls: string[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const probe = (proto: string) => async (address: string, port: number) => {
    const key = `${address}:${port}/${proto}`;
    calls.push(key);
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    await new Promise((r) => setImmediate(r));
    inFlight--;
    return table[key] ?? { ok: false, detail: "connection refused" };
  };
  const ports: PortProber = { tcp: probe("tcp"), udp: probe("udp") };
  return { ports, calls, maxInFlight: () => maxInFlight };
}

/** fdatasync latencies handed out as measured (or an error thrown). */
export function fakeDisk(latenciesMs: number[] | Error = [0.5, 0.6, 0.7, 0.8, 0.9, 1, 1, 1, 1.2, 1.5]) {
  const calls: string[] = [];
  const disk: DiskLatency = {
    async fdatasync(dir) {
      calls.push(dir);
      if (latenciesMs instanceof Error) throw latenciesMs;
      return { latenciesMs, dir };
    },
  };
  return { disk, calls };
}

export interface FakeHostOptions {
  exec?: Exec;
  systemd?: Systemd;
  arp?: Arp;
  http?: Http;
  facts?: NodeFacts;
  uid?: number;
  etcd?: EtcdClient;
  kubectl?: Kubectl;
  ports?: PortProber;
  disk?: DiskLatency;
}

export function fakeHost(root: string, o: FakeHostOptions = {}): HostAdapters {
  const facts = o.facts ?? sampleFacts();
  return {
    exec: o.exec ?? fakeExec().exec,
    files: createFiles(root),
    systemd: o.systemd ?? fakeSystemd().systemd,
    facts: { collect: async () => facts },
    arp: o.arp ?? fakeArp().arp,
    http: o.http ?? fakeHttp().http,
    identity: { uid: o.uid ?? 0 },
    etcd: o.etcd ?? fakeEtcd({ members: [], localId: "1", down: true }).etcd,
    kubectl: o.kubectl ?? fakeKubectl(undefined, { presence: { kubectl: false, kubeconfig: false } }).kubectl,
    ports: o.ports ?? fakePorts().ports,
    disk: o.disk ?? fakeDisk().disk,
  };
}

/** A logger whose every line is kept (to assert on, e.g. that no secret was logged). */
export function memoryLogger(level = "debug"): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  return { log: createLogger({ name: "test", level, destination }), lines };
}

export const TOKEN = `K10${"a".repeat(64)}::server:${"b".repeat(32)}`;

export function samplePlan(over: Partial<PlanBody> = {}): NodePlan {
  const role = over.role ?? "server";
  const body: PlanBody = {
    node: "node-1",
    role,
    init: false,
    install: {
      installerUrl: "https://get.rke2.io",
      type: role,
      version: "v1.33.5+rke2r1",
      channel: "stable",
    },
    config: {
      server: "https://10.0.0.100:9345",
      token: TOKEN,
      "node-name": "node-1",
      "node-ip": "10.0.0.11",
    },
    manifests: [],
    service: role === "server" ? "rke2-server" : "rke2-agent",
    readiness: { registrationAddress: "10.0.0.100", timeoutSeconds: 5 },
    captureToken: false,
    ...over,
  };
  return sealPlan(body);
}
