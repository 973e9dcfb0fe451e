// What a server writes for local administration, as RKE2 does at every start: the admin kubeconfig
// (write-kubeconfig, default /etc/rancher/rke2/rke2.yaml, mode write-kubeconfig-mode or 0600) with a
// client certificate for system:admin in group system:masters, pointing at https://127.0.0.1:6443 (or
// bind-address when one is set, as k3s's BindAddressOrLoopback); and kubectl in <data-dir>/bin, where
// RKE2 unpacks its runtime binaries.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { stringify } from "yaml";
import { nodeBinary, SIM_DIR, shQuote } from "../paths.ts";
import type { SimConfig } from "./config.ts";
import { writeAtomic } from "./files.ts";
import { issueCert, type KeyPair } from "./pki.ts";

async function adminCert(cfg: SimConfig, ca: KeyPair): Promise<KeyPair> {
  const dir = path.join(cfg.dataDir, "server", "tls");
  const cert = path.join(dir, "client-admin.crt");
  const key = path.join(dir, "client-admin.key");
  if (existsSync(cert) && existsSync(key)) {
    const pair = { certPem: readFileSync(cert, "utf8"), keyPem: readFileSync(key, "utf8") };
    // Reissue when the CA changed (a restore onto another cluster): the old one would not verify.
    if (pair.certPem && readFileSync(path.join(dir, "server-ca.crt"), "utf8") === ca.certPem) return pair;
  }
  const pair = await issueCert(ca, {
    commonName: "system:admin",
    organization: "system:masters",
    usage: "client",
  });
  writeAtomic(cert, pair.certPem, 0o644);
  writeAtomic(key, pair.keyPem);
  return pair;
}

export function kubeconfigServer(cfg: SimConfig, loopback: string): string {
  const host = cfg.bindAddress && cfg.bindAddress !== "0.0.0.0" ? cfg.bindAddress : loopback;
  return `https://${host}:6443`;
}

export async function writeAdminKubeconfig(cfg: SimConfig, ca: KeyPair, loopback: string): Promise<string> {
  const admin = await adminCert(cfg, ca);
  const b64 = (s: string) => Buffer.from(s).toString("base64");
  const doc = {
    apiVersion: "v1",
    clusters: [
      {
        cluster: { "certificate-authority-data": b64(ca.certPem), server: kubeconfigServer(cfg, loopback) },
        name: "default",
      },
    ],
    contexts: [{ context: { cluster: "default", user: "default" }, name: "default" }],
    "current-context": "default",
    kind: "Config",
    preferences: {},
    users: [
      {
        name: "default",
        user: { "client-certificate-data": b64(admin.certPem), "client-key-data": b64(admin.keyPem) },
      },
    ],
  };
  writeAtomic(cfg.writeKubeconfig, stringify(doc), cfg.writeKubeconfigMode);
  chmodSync(cfg.writeKubeconfig, cfg.writeKubeconfigMode);
  return cfg.writeKubeconfig;
}

/** <data-dir>/bin/kubectl: the stand-in, reporting the release's Kubernetes version. */
export function installKubectl(dataDir: string, version: string): string {
  const bin = path.join(dataDir, "bin");
  mkdirSync(bin, { recursive: true });
  const file = path.join(bin, "kubectl");
  const script = [
    "#!/bin/sh",
    "# kubectl (simulator), installed by the simulated rke2 like the binaries RKE2 unpacks into data-dir/bin.",
    `KUBECTL_SIM_VERSION=${shQuote(version)}`,
    "export KUBECTL_SIM_VERSION",
    `exec ${shQuote(nodeBinary())} ${shQuote(path.join(SIM_DIR, "kubectl.ts"))} "$@"`,
    "",
  ].join("\n");
  writeFileSync(file, script, { mode: 0o755 });
  chmodSync(file, 0o755);
  return file;
}

/** <data-dir>/bin/crictl: the stand-in for the containers the simulated kubelet runs (../crictl.ts). */
export function installCrictl(dataDir: string): string {
  const bin = path.join(dataDir, "bin");
  mkdirSync(bin, { recursive: true });
  const file = path.join(bin, "crictl");
  const script = [
    "#!/bin/sh",
    "# crictl (simulator), installed by the simulated rke2 like the binaries RKE2 unpacks into data-dir/bin.",
    `CRICTL_SIM_DATA_DIR=${shQuote(dataDir)}`,
    "export CRICTL_SIM_DATA_DIR",
    `exec ${shQuote(nodeBinary())} ${shQuote(path.join(SIM_DIR, "crictl.ts"))} "$@"`,
    "",
  ].join("\n");
  writeFileSync(file, script, { mode: 0o755 });
  chmodSync(file, 0o755);
  return file;
}
