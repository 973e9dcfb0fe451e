// Whether a node can run an image without the internet, as RKE2's containerd decides: the image was
// imported from a tarball in <data-dir>/agent/images/ (RKE2 imports docker-archive/OCI tarballs found
// there, by the names recorded inside them, whatever the file is called), or registries.yaml has a
// mirror for the image's registry (or the "*" wildcard mirror). Otherwise the pull fails and the pod
// sits in ImagePullBackOff. Also builds a small docker-archive tarball naming kube-vip's image, so a
// test or muster's coordinator can serve it like a real air-gap image file.
import { statSync } from "node:fs";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";
import { parse as parseYaml } from "yaml";

export const KUBE_VIP_IMAGE = "ghcr.io/kube-vip/kube-vip";
export const DEFAULT_KUBE_VIP_VERSION = "v0.9.2";

/** Registry host and canonical name of an image reference (docker.io for bare names, :latest). */
export function parseImage(ref: string): { registry: string; canonical: string } {
  const noDigest = ref.split("@")[0]!;
  const first = noDigest.split("/")[0]!;
  const hasRegistry =
    noDigest.includes("/") && (first.includes(".") || first.includes(":") || first === "localhost");
  const registry = hasRegistry ? first : "docker.io";
  let rest = hasRegistry ? noDigest.slice(first.length + 1) : noDigest;
  if (registry === "docker.io" && !rest.includes("/")) rest = `library/${rest}`;
  const lastSlash = rest.lastIndexOf("/");
  if (!rest.slice(lastSlash + 1).includes(":")) rest = `${rest}:latest`;
  return { registry, canonical: `${registry}/${rest}` };
}

const TARBALL = /\.(tar|tar\.gz|tgz|tar\.zst|tar\.bz2|tar\.lz4)$/i;
const cache = new Map<string, { stamp: string; names: string[] }>();

async function namesInTarball(file: string): Promise<string[]> {
  const st = statSync(file);
  const stamp = `${st.size}:${st.mtimeMs}`;
  const hit = cache.get(file);
  if (hit?.stamp === stamp) return hit.names;
  const names: string[] = [];
  // docker-archive: manifest.json RepoTags; OCI layout: index.json annotations.
  const manifest = await execa("tar", ["-xOf", file, "manifest.json"], { reject: false });
  if (manifest.exitCode === 0) {
    try {
      for (const m of JSON.parse(manifest.stdout) as { RepoTags?: string[] }[])
        names.push(...(m.RepoTags ?? []));
    } catch {}
  }
  const index = await execa("tar", ["-xOf", file, "index.json"], { reject: false });
  if (index.exitCode === 0) {
    try {
      const parsed = JSON.parse(index.stdout) as { manifests?: { annotations?: Record<string, string> }[] };
      for (const m of parsed.manifests ?? []) {
        const n =
          m.annotations?.["io.containerd.image.name"] ?? m.annotations?.["org.opencontainers.image.ref.name"];
        if (n?.includes("/")) names.push(n);
      }
    } catch {}
  }
  const canonical = names.map((n) => parseImage(n).canonical);
  cache.set(file, { stamp, names: canonical });
  return canonical;
}

/** Canonical names of every image imported from the node's images directory. */
export async function importedImages(imagesDir: string): Promise<string[]> {
  let entries: string[];
  try {
    entries = await readdir(imagesDir);
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const name of entries.filter((n) => TARBALL.test(n)).sort()) {
    out.push(...(await namesInTarball(path.join(imagesDir, name)).catch(() => [])));
  }
  return out;
}

/** Registries with a mirror in registries.yaml ("*" stands for all). */
export function mirroredRegistries(registriesYaml: string): string[] {
  try {
    const doc = parseYaml(registriesYaml) as { mirrors?: Record<string, { endpoint?: unknown }> } | null;
    return Object.entries(doc?.mirrors ?? {})
      .filter(([, m]) => Array.isArray(m?.endpoint) && m.endpoint.length > 0)
      .map(([host]) => host);
  } catch {
    return [];
  }
}

export type ImageSource = { via: "imported" } | { via: "mirror"; registry: string } | null;

export async function findImage(
  image: string,
  imagesDir: string,
  registriesYaml: string | null,
): Promise<ImageSource> {
  const { registry, canonical } = parseImage(image);
  if ((await importedImages(imagesDir)).includes(canonical)) return { via: "imported" };
  const mirrors = registriesYaml ? mirroredRegistries(registriesYaml) : [];
  if (mirrors.includes(registry) || mirrors.includes("*")) return { via: "mirror", registry };
  return null;
}

/**
 * Writes `<dir>/kube-vip-<version>.tar`, a docker-archive whose manifest names
 * ghcr.io/kube-vip/kube-vip:<version> (no layers: the simulator only reads the name).
 */
export async function buildKubeVipImage(dir: string, version = DEFAULT_KUBE_VIP_VERSION): Promise<string> {
  await mkdir(dir, { recursive: true });
  const stage = await mkdtemp(path.join(tmpdir(), "kube-vip-image-"));
  try {
    const config = JSON.stringify({
      architecture: "amd64",
      os: "linux",
      config: { Entrypoint: ["/kube-vip"] },
    });
    const configName = "config.json";
    await writeFile(path.join(stage, configName), config);
    await writeFile(
      path.join(stage, "manifest.json"),
      JSON.stringify([{ Config: configName, RepoTags: [`${KUBE_VIP_IMAGE}:${version}`], Layers: [] }]),
    );
    const out = path.join(dir, `kube-vip-${version}.tar`);
    await execa("tar", [
      "-cf",
      out,
      "--owner=0",
      "--group=0",
      "--numeric-owner",
      "--mtime=2025-09-30 00:00Z",
      "--sort=name",
      "-C",
      stage,
      "manifest.json",
      configName,
    ]);
    return out;
  } finally {
    await rm(stage, { recursive: true, force: true });
  }
}
