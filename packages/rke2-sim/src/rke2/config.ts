// config.yaml the way rke2 reads it (docs/rke2-behaviour.md "config.yaml", k3s pkg/configfilearg): the file, then
// <file>.d/*.yaml|*.yml in name order; later keys win, "key+" appends; keys the command does not know
// are warned about and skipped; command-line flags come last.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { hostname, networkInterfaces } from "node:os";
import path from "node:path";
import { parse as parseYaml } from "yaml";
import { BOOL_KEYS, LIST_KEYS, validKeys } from "./flags.ts";

export type Role = "server" | "agent";
export const DEFAULT_CONFIG = "/etc/rancher/rke2/config.yaml";
export const DEFAULT_DATA_DIR = "/var/lib/rancher/rke2";

export type Values = Map<string, string | string[]>;

function asStrings(v: unknown): string[] {
  if (Array.isArray(v)) return v.map((x) => String(x));
  if (v === null || v === undefined) return [];
  return [String(v)];
}

/** Finds the config file: RKE2_CONFIG_FILE, then --config/-c, then the default. */
export function configFileFrom(args: string[]): string {
  const env = process.env["RKE2_CONFIG_FILE"];
  if (env) return env;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--config" || a === "-c") return args[i + 1] ?? DEFAULT_CONFIG;
    if (a.startsWith("--config=")) return a.slice(9);
    if (a.startsWith("-c=")) return a.slice(3);
  }
  return DEFAULT_CONFIG;
}

export function configFiles(file: string): string[] {
  const files = existsSync(file) ? [file] : [];
  const dir = `${file}.d`;
  if (existsSync(dir)) {
    const dropIns = readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.isFile() && /\.ya?ml$/i.test(d.name))
      .map((d) => d.name)
      .sort();
    files.push(...dropIns.map((n) => path.join(dir, n)));
  }
  return files;
}

/** Merges config files and flags; returns the values plus warnings for skipped keys. */
export function loadValues(
  role: Role,
  args: string[],
): { values: Values; warnings: string[]; files: string[] } {
  const valid = validKeys(role);
  const values: Values = new Map();
  const warnings: string[] = [];
  const files = configFiles(configFileFrom(args));
  for (const file of files) {
    const doc = parseYaml(readFileSync(file, "utf8")) as Record<string, unknown> | null;
    if (doc === null || doc === undefined) continue;
    if (typeof doc !== "object" || Array.isArray(doc)) throw new Error(`${file}: expected a YAML mapping`);
    for (const [rawKey, v] of Object.entries(doc)) {
      const append = rawKey.endsWith("+");
      const key = append ? rawKey.slice(0, -1) : rawKey;
      if (!valid.has(key)) {
        warnings.push(`Unknown flag --${key} found in config.yaml, skipping`);
        continue;
      }
      const old = values.get(key);
      if (append && old !== undefined) values.set(key, [...asStrings(old), ...asStrings(v)]);
      else values.set(key, LIST_KEYS.has(key) ? asStrings(v) : String(v ?? ""));
    }
  }
  // Flags come after the config file's values (k3s splices those in front): scalars override, lists extend.
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith("-")) throw new Error(`unexpected argument "${a}"`);
    const body = a.replace(/^--?/, "");
    const eq = body.indexOf("=");
    const key = eq >= 0 ? body.slice(0, eq) : body;
    const norm = key === "c" ? "config" : key;
    if (!valid.has(norm)) throw new Error(`flag provided but not defined: -${key}`);
    let value: string;
    if (eq >= 0) value = body.slice(eq + 1);
    else if (BOOL_KEYS.has(norm)) value = "true";
    else if (i + 1 < args.length) value = args[++i]!;
    else throw new Error(`flag needs an argument: -${key}`);
    values.set(norm, LIST_KEYS.has(norm) ? [...asStrings(values.get(norm)), value] : value);
  }
  return { values, warnings, files };
}

export interface SimConfig {
  role: Role;
  dataDir: string;
  server: string | null;
  token: string | null;
  agentToken: string | null;
  nodeName: string;
  nodeIP: string;
  bindAddress: string;
  tlsSan: string[];
  nodeTaints: string[];
  nodeLabels: string[];
  clusterCIDR: string;
  serviceCIDR: string;
  clusterDNS: string;
  clusterDomain: string;
  disableCCM: boolean;
  disableKubeProxy: boolean;
  egressSelectorMode: string;
  etcdExposeMetrics: boolean;
  /** Admin kubeconfig path and mode (write-kubeconfig, write-kubeconfig-mode; default 0600). */
  writeKubeconfig: string;
  writeKubeconfigMode: number;
  /** registries.yaml (private-registry). */
  privateRegistry: string;
  debug: boolean;
}

/** /etc/rancher/rke2/<file> for the standard data dir; inside a custom one, so that simulated nodes
 * sharing a host in tests never write the host's /etc (the same rule as the node password file). */
function etcRancherFile(dataDir: string, file: string): string {
  return dataDir === DEFAULT_DATA_DIR ? path.join("/etc/rancher/rke2", file) : path.join(dataDir, file);
}

function firstIPv4(): string {
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === "IPv4" && !a.internal) return a.address;
  }
  throw new Error("unable to find a non-loopback IPv4 address; set node-ip");
}

function readSecretFile(file: string | undefined): string | null {
  return file ? readFileSync(file, "utf8").trim() : null;
}

export function resolveConfig(role: Role, values: Values): SimConfig {
  const str = (k: string) => {
    const v = values.get(k);
    return Array.isArray(v) ? v.join(",") : v;
  };
  const list = (k: string) => asStrings(values.get(k)).flatMap((v) => (k === "node-ip" ? v.split(",") : [v]));
  const bool = (k: string) => /^(true|1|yes|on)$/i.test(str(k) ?? "");
  const nodeIP = list("node-ip").find((ip) => /^\d+\.\d+\.\d+\.\d+$/.test(ip)) ?? firstIPv4();
  const dataDir = str("data-dir") || DEFAULT_DATA_DIR;
  const mode = str("write-kubeconfig-mode");
  if (mode && !/^0?[0-7]{3}$/.test(mode)) throw new Error(`invalid write-kubeconfig-mode "${mode}"`);
  return {
    role,
    dataDir,
    server: str("server") || null,
    token: str("token") || readSecretFile(str("token-file")),
    agentToken: str("agent-token") || readSecretFile(str("agent-token-file")),
    nodeName: (str("node-name") || hostname()).toLowerCase(),
    nodeIP,
    bindAddress: str("bind-address") || "0.0.0.0",
    tlsSan: list("tls-san")
      .flatMap((s) => s.split(","))
      .filter(Boolean),
    nodeTaints: list("node-taint"),
    nodeLabels: list("node-label"),
    clusterCIDR: str("cluster-cidr") || "10.42.0.0/16",
    serviceCIDR: str("service-cidr") || "10.43.0.0/16",
    clusterDNS: str("cluster-dns") || "10.43.0.10",
    clusterDomain: str("cluster-domain") || "cluster.local",
    disableCCM: bool("disable-cloud-controller"),
    disableKubeProxy: bool("disable-kube-proxy"),
    egressSelectorMode: str("egress-selector-mode") || "agent",
    etcdExposeMetrics: bool("etcd-expose-metrics"),
    writeKubeconfig: str("write-kubeconfig") || etcRancherFile(dataDir, "rke2.yaml"),
    writeKubeconfigMode: mode ? Number.parseInt(mode, 8) : 0o600,
    privateRegistry: str("private-registry") || etcRancherFile(dataDir, "registries.yaml"),
    debug: bool("debug"),
  };
}

/** The node's loopback address: 127.0.0.1, or node-ip itself when that is in 127/8, so several simulated
 * nodes can share one host's loopback interface in tests. */
export function loopbackFor(nodeIP: string): string {
  return nodeIP.startsWith("127.") ? nodeIP : "127.0.0.1";
}
