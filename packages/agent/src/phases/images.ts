import { createHash, randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import type { Files } from "../adapters/types.ts";
import { RKE2_IMAGES_DIR } from "../rke2-paths.ts";
import { type PhaseContext, PhaseError } from "./types.ts";

// Air-gap images from the plan (kube-vip's): each tarball is fetched from the coordinator's
// /v1/artifacts/images/<file> into RKE2's agent images dir, where containerd imports it when RKE2
// starts, so no node needs a registry for it. The plan came over the pinned, authenticated channel
// and names each file's sha256: that, not the TLS of the download, is what makes the file trusted
// (the coordinator's certificate is pinned, not in the system store). A file already there with the
// right hash is kept; a wrong one never lands in the directory (downloaded aside, checked, renamed).

async function sha256Of(files: Files, path: string): Promise<string | null> {
  if (!(await files.stat(path))?.isFile) return null;
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(files.resolve(path))) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** Places every image of the plan; returns a summary for the phase message ("" when there is none). */
export async function placeImages(ctx: PhaseContext): Promise<string> {
  const images = ctx.plan.images ?? [];
  if (images.length === 0) return "";
  const { files, http } = ctx.host;
  if (!ctx.coordinatorUrl) throw new PhaseError("the plan names images but the coordinator URL is unknown");
  const base = ctx.coordinatorUrl.replace(/\/+$/, "");
  await files.mkdir(RKE2_IMAGES_DIR, 0o755);
  let fetched = 0;
  for (const image of images) {
    const final = `${RKE2_IMAGES_DIR}/${image.file}`;
    if ((await sha256Of(files, final)) === image.sha256) continue;
    const part = `${RKE2_IMAGES_DIR}/.${image.file}.${randomBytes(4).toString("hex")}.part`;
    const url = `${base}/v1/artifacts/images/${encodeURIComponent(image.file)}`;
    try {
      const res = await http.download(url, files.resolve(part), {
        timeoutMs: 300_000,
        mode: 0o644,
        insecure: true,
      });
      if (res.status !== 200) throw new PhaseError(`downloading image ${url} failed: HTTP ${res.status}`);
      const got = await sha256Of(files, part);
      if (got !== image.sha256)
        throw new PhaseError(`image ${image.file} from ${base} does not match the sha256 in the plan`);
      await files.rename(part, final);
      fetched++;
    } catch (err) {
      await files.remove(part).catch(() => {});
      if (err instanceof PhaseError) throw err;
      throw new PhaseError(`downloading image ${url} failed: ${(err as Error).message}`);
    }
  }
  return `${images.length} image(s) in ${RKE2_IMAGES_DIR}, ${fetched} fetched`;
}
