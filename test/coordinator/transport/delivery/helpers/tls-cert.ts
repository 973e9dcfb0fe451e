import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { spkiPinFromCert } from "@muster/shared";

export interface TestTls {
  caCert: string;
  cert: string;
  key: string;
  /** curl --pinnedpubkey form of the serving cert's key */
  pin: string;
}

/** A throwaway CA and a serving cert for 127.0.0.1/localhost, made with the openssl CLI. */
export function makeTestTls(): TestTls {
  const dir = mkdtempSync(path.join(tmpdir(), "muster-tls-"));
  const f = (name: string) => path.join(dir, name);
  const ossl = (...args: string[]) => execFileSync("openssl", args, { stdio: ["ignore", "ignore", "pipe"] });
  try {
    const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
    ossl(
      "req",
      "-x509",
      ...ec,
      "-keyout",
      f("ca.key"),
      "-out",
      f("ca.crt"),
      "-subj",
      "/CN=muster test CA",
      "-days",
      "2",
    );
    ossl("req", "-new", ...ec, "-keyout", f("server.key"), "-out", f("server.csr"), "-subj", "/CN=127.0.0.1");
    writeFileSync(f("ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n");
    ossl(
      "x509",
      "-req",
      "-in",
      f("server.csr"),
      "-CA",
      f("ca.crt"),
      "-CAkey",
      f("ca.key"),
      "-CAcreateserial",
      "-out",
      f("server.crt"),
      "-days",
      "2",
      "-extfile",
      f("ext"),
    );
    const cert = readFileSync(f("server.crt"), "utf8");
    return {
      caCert: readFileSync(f("ca.crt"), "utf8"),
      cert,
      key: readFileSync(f("server.key"), "utf8"),
      pin: spkiPinFromCert(cert),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A pin of some other key: what a wrong or re-keyed coordinator looks like. */
export const WRONG_PIN = `sha256//${Buffer.alloc(32, 7).toString("base64")}`;
