import { parseRke2Version } from "./adapters/host-facts.ts";
import type { Exec, Files } from "./adapters/types.ts";

// Where RKE2 keeps things (docs/rke2-behaviour.md). One place, so phases, checks and facts agree.
export const RKE2_CONFIG_DIR = "/etc/rancher/rke2";
export const RKE2_CONFIG_FILE = `${RKE2_CONFIG_DIR}/config.yaml`;
export const RKE2_DROPIN_DIR = `${RKE2_CONFIG_DIR}/config.yaml.d`;
export const RKE2_DATA_DIR = "/var/lib/rancher/rke2";
export const RKE2_MANIFESTS_DIR = `${RKE2_DATA_DIR}/server/manifests`;
/** Image tarballs containerd imports when RKE2 starts (air-gap). */
export const RKE2_IMAGES_DIR = `${RKE2_DATA_DIR}/agent/images`;
export const RKE2_TOKEN_FILE = `${RKE2_DATA_DIR}/server/token`;
export const RKE2_SERVER_DB = `${RKE2_DATA_DIR}/server/db`;
/** RKE2's crictl (unpacked from its runtime image) and the containerd socket it must be pointed at. */
export const RKE2_CRICTL = `${RKE2_DATA_DIR}/bin/crictl`;
export const RKE2_CONTAINERD_ENDPOINT = "unix:///run/k3s/containerd/containerd.sock";
/** Client certificates for probes when the apiserver refuses anonymous /readyz. */
export const RKE2_ADMIN_CLIENT = {
  cert: `${RKE2_DATA_DIR}/server/tls/client-admin.crt`,
  key: `${RKE2_DATA_DIR}/server/tls/client-admin.key`,
};
export const RKE2_KUBELET_CLIENT = {
  cert: `${RKE2_DATA_DIR}/agent/client-kubelet.crt`,
  key: `${RKE2_DATA_DIR}/agent/client-kubelet.key`,
};
/** Tarball installs use INSTALL_RKE2_TAR_PREFIX (default /usr/local; /opt/rke2 on read-only /usr); RPMs /usr. */
export const RKE2_PREFIXES = ["/usr/local", "/usr", "/opt/rke2"];
export const UNIT_DIRS = [
  "/etc/systemd/system",
  "/usr/local/lib/systemd/system",
  "/usr/lib/systemd/system",
  "/lib/systemd/system",
];

export interface InstalledRke2 {
  binary: string;
  version?: string;
}

/** The first rke2 binary found under the known prefixes, with its `--version`. */
export async function findInstalledRke2(files: Files, exec: Exec): Promise<InstalledRke2 | null> {
  for (const prefix of RKE2_PREFIXES) {
    const binary = `${prefix}/bin/rke2`;
    if (!(await files.exists(binary))) continue;
    const out = await exec.run(files.resolve(binary), ["--version"], { timeoutMs: 10_000 });
    const version = parseRke2Version(out.stdout);
    return version ? { binary, version } : { binary };
  }
  return null;
}

export async function unitFileExists(files: Files, unit: string): Promise<boolean> {
  for (const dir of UNIT_DIRS) if (await files.exists(`${dir}/${unit}.service`)) return true;
  return false;
}

/** An installed RKE2 helper script (rke2-killall.sh, rke2-uninstall.sh) under the known prefixes. */
export async function findRke2Script(files: Files, name: string): Promise<string | null> {
  for (const prefix of RKE2_PREFIXES) {
    const script = `${prefix}/bin/${name}`;
    if (await files.exists(script)) return script;
  }
  return null;
}
