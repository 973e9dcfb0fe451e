import { createHash, X509Certificate } from "node:crypto";

// curl --pinnedpubkey format: "sha256//" + base64(sha256(DER SubjectPublicKeyInfo)).
export function spkiPinFromCert(certPem: string | Buffer): string {
  const spki = new X509Certificate(certPem).publicKey.export({ type: "spki", format: "der" });
  return `sha256//${createHash("sha256").update(spki).digest("base64")}`;
}

/** Pin of a peer certificate as node:tls exposes it (`getPeerCertificate().pubkey` is the SPKI DER). */
export function spkiPinFromDer(spkiDer: Buffer): string {
  return `sha256//${createHash("sha256").update(spkiDer).digest("base64")}`;
}
