// The cluster CA and certificates signed by it: real TLS with ECDSA P-256 keys (@peculiar/x509 on
// WebCrypto). RKE2 has several CAs; the simulator uses one, the server CA served at /cacerts.
import "reflect-metadata";
import { randomBytes, webcrypto } from "node:crypto";
import { isIP } from "node:net";
import * as x509 from "@peculiar/x509";

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
const subtle = webcrypto.subtle;
const ALG = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;
const DAY = 86_400_000;

export interface KeyPair {
  certPem: string;
  keyPem: string;
}

function serial(): string {
  const bytes = randomBytes(16);
  bytes[0] = bytes[0]! & 0x7f; // positive
  return bytes.toString("hex");
}

async function exportKey(key: webcrypto.CryptoKey): Promise<string> {
  const der = await subtle.exportKey("pkcs8", key);
  return `${x509.PemConverter.encode(der, "PRIVATE KEY")}\n`;
}

async function generateKeys(): Promise<webcrypto.CryptoKeyPair> {
  return (await subtle.generateKey(ALG, true, ["sign", "verify"])) as webcrypto.CryptoKeyPair;
}

export async function createCA(commonName: string): Promise<KeyPair> {
  const keys = await generateKeys();
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=${commonName}`,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 3650 * DAY),
    signingAlgorithm: ALG,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: `${cert.toString("pem")}\n`, keyPem: await exportKey(keys.privateKey) };
}

export interface LeafOptions {
  commonName: string;
  organization?: string;
  /** IP addresses and DNS names for subjectAltName (serving certificates). */
  sans?: string[];
  usage: "server" | "client";
}

export async function issueCert(ca: KeyPair, opts: LeafOptions): Promise<KeyPair> {
  const caCert = new x509.X509Certificate(ca.certPem);
  const der = x509.PemConverter.decodeFirst(ca.keyPem);
  const caKey = await subtle.importKey("pkcs8", der, ALG, false, ["sign"]);
  const keys = await generateKeys();
  const now = Date.now();
  const sans = [...new Set(opts.sans ?? [])].map((v) =>
    isIP(v) ? { type: "ip", value: v } : { type: "dns", value: v },
  );
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(
      x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
      true,
    ),
    new x509.ExtendedKeyUsageExtension([
      opts.usage === "server" ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth,
    ]),
    await x509.AuthorityKeyIdentifierExtension.create(caCert),
  ];
  if (sans.length) extensions.push(new x509.SubjectAlternativeNameExtension(sans as x509.JsonGeneralNames));
  const subject = `CN=${opts.commonName}${opts.organization ? `, O=${opts.organization}` : ""}`;
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject,
    issuer: caCert.subject,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 365 * DAY),
    signingAlgorithm: ALG,
    publicKey: keys.publicKey,
    signingKey: caKey,
    extensions,
  });
  return { certPem: `${cert.toString("pem")}\n`, keyPem: await exportKey(keys.privateKey) };
}
