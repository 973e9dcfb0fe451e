import { createHash, X509Certificate } from "node:crypto";

// curl --pinnedpubkey format: "sha256//" + base64(sha256(DER SubjectPublicKeyInfo)).
export function spkiPinFromCert(certPem: string | Buffer): string {
  const spki = new X509Certificate(certPem).publicKey.export({ type: "spki", format: "der" });
  return `sha256//${createHash("sha256").update(spki).digest("base64")}`;
}

/** Pin of a DER SubjectPublicKeyInfo. */
export function spkiPinFromDer(spkiDer: Buffer): string {
  return `sha256//${createHash("sha256").update(spkiDer).digest("base64")}`;
}

/**
 * Pin of the certificate a TLS peer presented (`socket.getPeerCertificate()`). Uses `raw` (the
 * certificate DER), not `pubkey`: for EC keys node:tls gives `pubkey` as the bare curve point, not
 * the SPKI that curl hashes, so hashing `pubkey` would never match the coordinator's ECDSA pin.
 */
export function spkiPinFromPeer(peer: { raw: Buffer }): string {
  return spkiPinFromCert(peer.raw);
}
