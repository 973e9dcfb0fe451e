// Files a server keeps under its data dir: the cluster CA, the token (0600) with server/node-token a
// symlink to it, agent-token, and the node password a node registers with.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { DEFAULT_DATA_DIR } from "./config.ts";
import type { KeyPair } from "./pki.ts";
import { formatToken, generatePassword, type ParsedToken, parseToken } from "./token.ts";

const serverDir = (dataDir: string) => path.join(dataDir, "server");
const tlsDir = (dataDir: string) => path.join(serverDir(dataDir), "tls");

/** Write-then-rename with the final mode from the start: no reader ever sees a partial secret. */
export function writeAtomic(file: string, content: string, mode = 0o600): void {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, content, { mode });
  renameSync(tmp, file);
}

export function loadCA(dataDir: string): KeyPair | null {
  const cert = path.join(tlsDir(dataDir), "server-ca.crt");
  const key = path.join(tlsDir(dataDir), "server-ca.key");
  if (!existsSync(cert) || !existsSync(key)) return null;
  return { certPem: readFileSync(cert, "utf8"), keyPem: readFileSync(key, "utf8") };
}

export function saveCA(dataDir: string, ca: KeyPair): void {
  writeAtomic(path.join(tlsDir(dataDir), "server-ca.crt"), ca.certPem, 0o644);
  writeAtomic(path.join(tlsDir(dataDir), "server-ca.key"), ca.keyPem);
}

export function saveServing(dataDir: string, serving: KeyPair): void {
  writeAtomic(path.join(tlsDir(dataDir), "serving-kube-apiserver.crt"), serving.certPem, 0o644);
  writeAtomic(path.join(tlsDir(dataDir), "serving-kube-apiserver.key"), serving.keyPem);
}

export function tokenFile(dataDir: string): string {
  return path.join(serverDir(dataDir), "token");
}

export function readToken(dataDir: string): ParsedToken | null {
  const file = tokenFile(dataDir);
  return existsSync(file) ? parseToken(readFileSync(file, "utf8").trim()) : null;
}

export function writeTokens(
  dataDir: string,
  caPem: string,
  serverPassword: string,
  agentPassword: string | null,
): void {
  writeAtomic(tokenFile(dataDir), `${formatToken(caPem, "server", serverPassword)}\n`);
  const link = path.join(serverDir(dataDir), "node-token");
  rmSync(link, { force: true });
  symlinkSync("token", link);
  const agentFile = path.join(serverDir(dataDir), "agent-token");
  if (agentPassword) writeAtomic(agentFile, `${formatToken(caPem, "node", agentPassword)}\n`);
  else rmSync(agentFile, { force: true });
}

/** /etc/rancher/node/password for the default data dir; beside a custom data dir otherwise, so that
 * nodes sharing a host in loopback tests keep separate identities. */
export function nodePasswordFile(dataDir: string): string {
  return dataDir === DEFAULT_DATA_DIR ? "/etc/rancher/node/password" : path.join(dataDir, "node-password");
}

export function ensureNodePassword(dataDir: string): string {
  const file = nodePasswordFile(dataDir);
  if (existsSync(file)) return readFileSync(file, "utf8").trim();
  const password = generatePassword();
  writeAtomic(file, `${password}\n`);
  return password;
}
