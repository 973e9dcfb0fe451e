import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import path from "node:path";
import { ArtifactMissing, ArtifactNotFound, type MusterError } from "@muster/shared";
import type { FastifyInstance, FastifyReply } from "fastify";
import { artifactsCache } from "./artifacts.ts";
import type { ImageDir } from "./images.ts";

// GET /v1/artifacts/:file - the agent bundles the bootstrap script downloads before it has any
// credential. Open on purpose: a bundle is public code plus the Node.js runtime and holds no secret,
// its integrity comes from the checksum embedded in the pinned bootstrap script (not from who may
// download it), and gating it by join token would either put the token in curl's argv (visible in
// ps) or need a second stdin channel for no security gain. (The script's other open call, POST
// /v1/bootstrap/verify, is served with the other open routes: http/routes/open.ts.)

export interface ArtifactsRoutesOptions {
  /** Directory holding SHA256SUMS and the files it lists (dist/artifacts). */
  dir: string;
}

function sendError(reply: FastifyReply, err: MusterError): FastifyReply {
  return reply.code(err.status).type("application/json").send(err.toBody());
}

function contentType(file: string): string {
  if (file.endsWith(".tar.gz") || file.endsWith(".tgz")) return "application/gzip";
  if (file === "SHA256SUMS" || file.endsWith(".txt")) return "text/plain; charset=utf-8";
  return "application/octet-stream";
}

export async function artifactsRoutes(app: FastifyInstance, opts: ArtifactsRoutesOptions): Promise<void> {
  const artifacts = artifactsCache(opts.dir);

  app.get<{ Params: { file: string } }>("/v1/artifacts/:file", async (request, reply) => {
    const { file } = request.params;
    // Only names SHA256SUMS lists are served, and those are plain names (see parseSha256Sums), so
    // no request can reach a path outside the directory.
    const sha256 = artifacts().files.get(file);
    if (sha256 === undefined) return sendError(reply, new ArtifactNotFound(file));
    const full = path.join(opts.dir, file);
    let size: number;
    try {
      size = (await stat(full)).size;
    } catch {
      return sendError(reply, new ArtifactMissing(file));
    }
    const etag = `"${sha256}"`;
    reply
      .header("etag", etag)
      .header("cache-control", "no-cache")
      .header("x-content-sha256", sha256)
      .type(contentType(file));
    if (request.headers["if-none-match"] === etag) return reply.code(304).send();
    reply.header("content-length", size);
    return reply.send(createReadStream(full));
  });
}

/** Air-gap image tarballs (kube-vip) served under /v1/artifacts/images/; open like the bundles. */
export async function imagesRoutes(app: FastifyInstance, opts: { images: ImageDir }): Promise<void> {
  const { images } = opts;
  // Public images (kube-vip's) and no secret: open, as the bundles. Only plain names in the images
  // directory resolve, so no request reaches a path outside it.
  app.get<{ Params: { file: string } }>("/v1/artifacts/images/:file", async (request, reply) => {
    const { file } = request.params;
    const full = images.resolve(file);
    const sha256 = full === null ? null : images.sha256(file);
    if (full === null || sha256 === null) return sendError(reply, new ArtifactNotFound(file));
    const size = (await stat(full)).size;
    reply
      .header("etag", `"${sha256}"`)
      .header("cache-control", "no-cache")
      .header("x-content-sha256", sha256)
      .header("content-length", size)
      .type("application/x-tar");
    return reply.send(createReadStream(full));
  });
}
