import { createHash, randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import type { InstallContext } from "./types.ts";
import { PhaseError } from "./types.ts";

// Air-gap: download RKE2's release artifacts into <stateDir>/artifacts/<version>/ so the installer
// can run with INSTALL_RKE2_ARTIFACT_PATH. Files already present with the right hash are kept, so a
// resumed install does not fetch a gigabyte of images twice.
export function artifactNames(arch: string) {
  return {
    sums: `sha256sum-${arch}.txt`,
    tarball: `rke2.linux-${arch}.tar.gz`,
    images: `rke2-images.linux-${arch}.tar.zst`,
  };
}

/** "<hash>  <file>" lines -> file -> hash. */
export function parseSha256Sums(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split("\n")) {
    const m = /^([0-9a-f]{64})\s+\*?(\S+)$/.exec(line.trim());
    if (m) out.set(m[2]!.replace(/^.*\//, ""), m[1]!);
  }
  return out;
}

async function sha256File(realPath: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(realPath)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

export async function fetchArtifacts(ctx: InstallContext, baseUrl: string): Promise<string> {
  const { files, http } = ctx.host;
  const label = ctx.plan.install.version ?? `channel-${ctx.plan.install.channel ?? "stable"}`;
  const dir = `${ctx.stateDir}/artifacts/${label}`;
  await files.mkdir(dir, 0o700);
  const names = artifactNames(ctx.arch);
  const base = baseUrl.replace(/\/+$/, "");

  const fetchOne = async (name: string, optional: boolean): Promise<boolean> => {
    const final = `${dir}/${name}`;
    const part = `${final}.${randomBytes(4).toString("hex")}.part`;
    const res = await http.download(`${base}/${name}`, files.resolve(part), {
      timeoutMs: 120_000,
      mode: 0o600,
    });
    if (res.status === 404 && optional) return false;
    if (res.status !== 200) {
      await files.remove(part);
      throw new PhaseError(`downloading ${base}/${name} failed: HTTP ${res.status}`);
    }
    await files.rename(part, final);
    return true;
  };

  await fetchOne(names.sums, false);
  const sums = parseSha256Sums(await files.readText(`${dir}/${names.sums}`));
  for (const [name, optional] of [
    [names.tarball, false],
    [names.images, true],
  ] as const) {
    const want = sums.get(name);
    const existing = await files.stat(`${dir}/${name}`);
    if (existing?.isFile && want && (await sha256File(files.resolve(`${dir}/${name}`))) === want) continue;
    const got = await fetchOne(name, optional);
    if (got && want && (await sha256File(files.resolve(`${dir}/${name}`))) !== want)
      throw new PhaseError(`${name} from ${base} does not match ${names.sums}`);
  }
  return files.resolve(dir);
}
