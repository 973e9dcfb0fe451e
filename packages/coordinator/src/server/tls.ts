import "reflect-metadata";
import { createPrivateKey, createPublicKey, X509Certificate as NodeCert, webcrypto } from "node:crypto";
import { chmod, mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { isIP } from "node:net";
import { hostname } from "node:os";
import { join } from "node:path";
import { spkiPinFromCert } from "@muster/shared";
import * as x509 from "@peculiar/x509";

// The coordinator always serves HTTPS. With no operator-supplied cert it keeps its own small PKI in
// <state-dir>/tls: a CA (ECDSA P-256, 10 years) and a serving cert (2 years) signed by it.
//
// Bootstrap trust is the *leaf* public-key pin (curl --pinnedpubkey pins the serving cert's SPKI,
// not the CA). So the serving key is generated once and kept: when the cert is re-issued (close to
// expiry, or because the SANs changed), it is signed again over the same key and the pin printed in
// every join command stays valid. Replacing server.key is the only thing that changes the pin.

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

const EC = { name: "ECDSA", namedCurve: "P-256" } as const;
const SIGN = { name: "ECDSA", hash: "SHA-256" } as const;
const DAY = 86_400_000;
const CA_DAYS = 3650;
const SERVING_DAYS = 730;
/** Re-issue the serving cert when it has less than this left, so it never lapses on a running site. */
const RENEW_BEFORE_DAYS = 30;

export interface TlsMaterial {
  cert: string;
  key: string;
  /** curl --pinnedpubkey form of the serving cert's public key. */
  pin: string;
  /** Our CA when we generated the PKI; undefined for operator-supplied certs. */
  caCert?: string;
  /** What happened at start, for the log. */
  action: "generated" | "reused" | "renewed" | "supplied";
}

export interface TlsOptions {
  stateDir: string;
  /** Names and IPs the serving cert must cover (advertise host, listen host...). */
  hosts: string[];
  certFile?: string;
  keyFile?: string;
  now?: Date;
}

export function tlsDir(stateDir: string): string {
  return join(stateDir, "tls");
}

/** The SANs a generated serving cert carries: the given hosts plus local names, without wildcards. */
export function servingHosts(hosts: string[]): string[] {
  const all = [...hosts, "localhost", "127.0.0.1", hostname().toLowerCase()];
  return [...new Set(all.filter((h) => h !== "" && h !== "0.0.0.0" && h !== "::"))].sort();
}

export async function loadOrCreateTls(opts: TlsOptions): Promise<TlsMaterial> {
  if (opts.certFile || opts.keyFile) {
    if (!opts.certFile || !opts.keyFile) throw new Error("--tls-cert and --tls-key must be given together");
    const [cert, key] = await Promise.all([readFile(opts.certFile, "utf8"), readFile(opts.keyFile, "utf8")]);
    assertKeyMatchesCert(cert, key);
    return { cert, key, pin: spkiPinFromCert(cert), action: "supplied" };
  }
  const dir = tlsDir(opts.stateDir);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const now = opts.now ?? new Date();
  const hosts = servingHosts(opts.hosts);
  const ca = await loadOrCreateCa(dir, now);
  const existingKey = await readOptional(join(dir, "server.key"));
  const existingCert = await readOptional(join(dir, "server.crt"));
  if (existingKey && existingCert && certStillFits(existingCert, existingKey, hosts, now)) {
    return {
      cert: existingCert,
      key: existingKey,
      pin: spkiPinFromCert(existingCert),
      caCert: ca.cert,
      action: "reused",
    };
  }
  const keys = existingKey ? await importKeyPair(existingKey) : await generateKeyPair();
  const key = existingKey ?? (await exportKey(keys.privateKey));
  const cert = await issueServingCert(ca, keys.publicKey, hosts, now);
  if (!existingKey) await writeSecret(join(dir, "server.key"), key);
  await writeSecret(join(dir, "server.crt"), cert);
  const action = existingKey ? "renewed" : "generated";
  return { cert, key, pin: spkiPinFromCert(cert), caCert: ca.cert, action };
}

interface Ca {
  cert: string;
  keys: CryptoKeyPair;
  name: string;
}

async function loadOrCreateCa(dir: string, now: Date): Promise<Ca> {
  const certPem = await readOptional(join(dir, "ca.crt"));
  const keyPem = await readOptional(join(dir, "ca.key"));
  if (certPem && keyPem) {
    return {
      cert: certPem,
      keys: await importKeyPair(keyPem),
      name: new NodeCert(certPem).subject.replace(/\n/g, ", "),
    };
  }
  const keys = await generateKeyPair();
  const name = `CN=muster coordinator CA ${now.toISOString().slice(0, 10)}`;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name,
    keys,
    notBefore: new Date(now.getTime() - 5 * 60_000),
    notAfter: new Date(now.getTime() + CA_DAYS * DAY),
    signingAlgorithm: SIGN,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  await writeSecret(join(dir, "ca.key"), await exportKey(keys.privateKey));
  await writeSecret(join(dir, "ca.crt"), cert.toString("pem"));
  return { cert: cert.toString("pem"), keys, name };
}

async function issueServingCert(ca: Ca, publicKey: CryptoKey, hosts: string[], now: Date): Promise<string> {
  const names = hosts.map((h) =>
    isIP(h) ? { type: "ip" as const, value: h } : { type: "dns" as const, value: h },
  );
  const caCert = new x509.X509Certificate(ca.cert);
  const cert = await x509.X509CertificateGenerator.create({
    subject: "CN=muster coordinator",
    issuer: caCert.subject,
    publicKey,
    signingKey: ca.keys.privateKey,
    notBefore: new Date(now.getTime() - 5 * 60_000),
    notAfter: new Date(now.getTime() + SERVING_DAYS * DAY),
    signingAlgorithm: SIGN,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(names),
      await x509.AuthorityKeyIdentifierExtension.create(ca.keys.publicKey),
    ],
  });
  // Serve the chain so a client that trusts our CA (instead of pinning) can verify it.
  return `${cert.toString("pem")}\n${ca.cert.trim()}\n`;
}

/** Reuse the cert while it matches its key, covers every host and has time left. */
function certStillFits(certPem: string, keyPem: string, hosts: string[], now: Date): boolean {
  try {
    const cert = new NodeCert(certPem);
    assertKeyMatchesCert(certPem, keyPem);
    if (new Date(cert.validTo).getTime() - now.getTime() < RENEW_BEFORE_DAYS * DAY) return false;
    const sans = new Set(
      (cert.subjectAltName ?? "").split(", ").map((s) => s.replace(/^(DNS|IP Address):/, "")),
    );
    return hosts.every((h) => sans.has(h));
  } catch {
    return false;
  }
}

function assertKeyMatchesCert(certPem: string, keyPem: string): void {
  const fromCert = new NodeCert(certPem).publicKey.export({ type: "spki", format: "der" });
  const fromKey = createPublicKey(keyPem).export({ type: "spki", format: "der" });
  if (!fromCert.equals(fromKey)) throw new Error("the TLS key does not belong to the TLS certificate");
}

async function generateKeyPair(): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(EC, true, ["sign", "verify"])) as CryptoKeyPair;
}

async function importKeyPair(keyPem: string): Promise<CryptoKeyPair> {
  const spki = createPublicKey(keyPem).export({ type: "spki", format: "der" });
  const pkcs8 = createPrivateKey(keyPem).export({ type: "pkcs8", format: "der" });
  const privateKey = await webcrypto.subtle.importKey("pkcs8", pkcs8, EC, true, ["sign"]);
  const publicKey = await webcrypto.subtle.importKey("spki", spki, EC, true, ["verify"]);
  return { privateKey, publicKey } as CryptoKeyPair;
}

async function exportKey(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey("pkcs8", key));
  const lines = der.toString("base64").match(/.{1,64}/g) ?? [];
  return `-----BEGIN PRIVATE KEY-----\n${lines.join("\n")}\n-----END PRIVATE KEY-----\n`;
}

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}

/** Atomic write with 0600 from the start: a crash never leaves a half-written or readable key. */
export async function writeSecret(path: string, content: string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, content, { mode: 0o600 });
  await chmod(tmp, 0o600);
  await rename(tmp, path);
}
