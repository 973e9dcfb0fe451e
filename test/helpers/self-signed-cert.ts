// Throwaway self-signed certificates (openssl) for TLS tests on loopback.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { spkiPinFromCert } from "@muster/shared";

export interface TestCert {
  cert: string;
  key: string;
  pin: string;
}

/** A self-signed certificate (it doubles as its own CA) for loopback names and the given IPs. */
export function selfSignedCert(cn = "localhost", ips: string[] = []): TestCert {
  const dir = mkdtempSync(path.join(os.tmpdir(), "muster-cert-"));
  try {
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        path.join(dir, "key.pem"),
        "-out",
        path.join(dir, "cert.pem"),
        "-days",
        "1",
        "-subj",
        `/CN=${cn}`,
        "-addext",
        `subjectAltName=${["IP:127.0.0.1", "DNS:localhost", ...ips.map((ip) => `IP:${ip}`)].join(",")}`,
      ],
      { stdio: "ignore" },
    );
    const cert = readFileSync(path.join(dir, "cert.pem"), "utf8");
    return { cert, key: readFileSync(path.join(dir, "key.pem"), "utf8"), pin: spkiPinFromCert(cert) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
