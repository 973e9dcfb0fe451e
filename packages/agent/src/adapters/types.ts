import type { NodeFacts } from "@muster/shared";
import type { DiskLatency } from "./disk-latency.ts";
import type { EtcdClient } from "./etcd.ts";
import type { Kubectl } from "./kubectl.ts";
import type { PortProber } from "./ports.ts";

// Every way the agent touches the host goes through one of these small interfaces, so tests swap in
// fakes (and a rooted files adapter over t.testdir()) and nothing in a test reaches the real /etc.

export interface ExecOptions {
  /** Extra environment for the child. Never put a secret here (visible in /proc/<pid>/environ). */
  env?: Record<string, string>;
  /** Data for the child's stdin: the one safe channel for anything sensitive. */
  input?: string;
  timeoutMs?: number;
  cwd?: string;
  signal?: AbortSignal;
}

export interface ExecResult {
  /** Exit code; 127 when the command was not found, 124 on timeout, 130 when cancelled. */
  exitCode: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export interface Exec {
  /** Runs a command without a shell. Never throws for a non-zero exit. */
  run(cmd: string, args: readonly string[], opts?: ExecOptions): Promise<ExecResult>;
}

export interface FileStat {
  mode: number;
  size: number;
  uid: number;
  isFile: boolean;
  isDirectory: boolean;
}

/** File access rooted at `root` ("/" on a host; a test dir in tests). Paths passed in are absolute. */
export interface Files {
  readonly root: string;
  /** Where an absolute host path really lives (for commands and statfs). */
  resolve(path: string): string;
  readText(path: string): Promise<string>;
  /** The file's text, or null when it does not exist. */
  readTextIfExists(path: string): Promise<string | null>;
  /** Temp file in the same directory (created with `mode`), fsync, rename, fsync the directory. */
  writeAtomic(path: string, data: string | Buffer, mode: number): Promise<void>;
  stat(path: string): Promise<FileStat | null>;
  exists(path: string): Promise<boolean>;
  /** Entry names; [] when the directory does not exist. */
  readdir(path: string): Promise<string[]>;
  readlink(path: string): Promise<string | null>;
  mkdir(path: string, mode: number): Promise<void>;
  chmod(path: string, mode: number): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  remove(path: string): Promise<void>;
}

export interface Systemd {
  isActive(unit: string): Promise<boolean>;
  isEnabled(unit: string): Promise<boolean>;
  /** `systemctl enable --now`: blocks until a Type=notify unit reports ready (or fails). */
  enableNow(unit: string, opts: { timeoutMs: number; signal?: AbortSignal }): Promise<ExecResult>;
  restart(unit: string, opts: { timeoutMs: number; signal?: AbortSignal }): Promise<ExecResult>;
  /** `systemctl start`: like enableNow, blocks until a Type=notify unit is ready, and enables nothing. */
  start(unit: string, opts: { timeoutMs: number; signal?: AbortSignal }): Promise<ExecResult>;
  stop(unit: string): Promise<ExecResult>;
}

export interface FactsOptions {
  /** Prefer this interface's address as the node address (the VIP interface). */
  vipInterface?: string;
  /** Operator override (--address); used as the node address when the host has it. */
  address?: string;
}

export interface FactsSource {
  collect(opts?: FactsOptions): Promise<NodeFacts>;
}

export type ArpOutcome =
  | { status: "answered"; detail: string }
  | { status: "silent"; detail: string }
  | { status: "error"; detail: string };

/** The distinct MACs (lowercase) that answered ARP requests, or why nothing could be asked. */
export type ArpOwners = { ok: true; macs: string[] } | { ok: false; detail: string };

export interface Arp {
  /** Duplicate address detection: does anyone already answer ARP for `ip` on `iface`? */
  probeInUse(iface: string, ip: string): Promise<ArpOutcome>;
  /** Does `ip` answer an ARP request sent out of `iface`? */
  probeReachable(iface: string, ip: string): Promise<ArpOutcome>;
  /** Who answers ARP for `ip` on `iface` (a few requests; every distinct MAC that replied). */
  owners(iface: string, ip: string): Promise<ArpOwners>;
  /**
   * The IPv4 addresses this node's neighbour table (`ip neigh`) has for each MAC on `iface`, so a
   * MAC that answers for the VIP can be named by its machine's own address. Empty when unknown.
   */
  neighbours(iface: string): Promise<Map<string, string[]>>;
}

export interface HttpGetOptions {
  /** PEM CA to verify the server against (hostname checks still apply). */
  ca?: string;
  /** Skip TLS verification: only for fetching /cacerts, whose hash is then checked against the token. */
  insecure?: boolean;
  /** PEM client certificate and key (RKE2's apiserver may refuse anonymous /readyz). */
  cert?: string;
  key?: string;
  timeoutMs?: number;
  headers?: Record<string, string>;
}

export interface HttpResponse {
  status: number;
  body: string;
}

export interface Http {
  /** GET with a bounded body; rejects on network or TLS errors. */
  get(url: string, opts?: HttpGetOptions): Promise<HttpResponse>;
  /** Streams a GET (following redirects) to a real path; resolves with the final status. */
  download(
    url: string,
    destPath: string,
    /** insecure: skip TLS verification; only for a file whose sha256 the caller checks after. */
    opts?: { timeoutMs?: number; mode?: number; insecure?: boolean },
  ): Promise<{ status: number }>;
}

/** Process-level facts the checks need beyond NodeFacts. */
export interface HostIdentity {
  uid: number;
}

export interface HostAdapters {
  exec: Exec;
  files: Files;
  systemd: Systemd;
  facts: FactsSource;
  arp: Arp;
  http: Http;
  identity: HostIdentity;
  etcd: EtcdClient;
  kubectl: Kubectl;
  ports: PortProber;
  disk: DiskLatency;
}
