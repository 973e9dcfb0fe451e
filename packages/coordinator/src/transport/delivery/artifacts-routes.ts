import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import path from "node:path";
import { isMusterError, MachineIdSchema, MusterError, parseOrThrow } from "@muster/shared";
import type { FastifyInstance, FastifyReply } from "fastify";
import { z } from "zod";
import { artifactsCache } from "./artifacts.ts";

// Routes the bootstrap script calls before it has any credential, so both are open:
//
// GET /v1/artifacts/:file - the agent bundles. Open on purpose: a bundle is public code plus the
//   Node.js runtime and holds no secret, its integrity comes from the checksum embedded in the pinned
//   bootstrap script (not from who may download it), and gating it by join token would either put the
//   token in curl's argv (visible in ps) or need a second stdin channel for no security gain.
// POST /v1/bootstrap/verify - checks a join token without using it up, so the script can stop before
//   it changes anything. It answers only valid/invalid (role, expiry): no oracle beyond the token itself,
//   whose 82-bit secret makes guessing hopeless. With the machine's id it also refuses (409) a token
//   whose role differs from the one that machine is enrolled as; only a valid token learns that.

export interface VerifiedJoinToken {
  id: string;
  role: "server" | "agent";
  expiresAt: string;
}

export interface ArtifactsRoutesOptions {
  /** Directory holding SHA256SUMS and the files it lists (dist/artifacts). */
  dir: string;
  /**
   * CoordinatorService.verifyJoinToken (throws MusterError UNAUTHORIZED with the reason). When given,
   * POST /v1/bootstrap/verify is registered here; leave it out if the app already serves that route.
   */
  verify?: (token: string, machineId?: string) => VerifiedJoinToken;
}

const VerifyBodySchema = z.strictObject({
  token: z.string().min(1).max(256),
  machineId: MachineIdSchema.optional(),
});

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
    if (sha256 === undefined)
      return sendError(reply, new MusterError("NOT_FOUND", `No artifact named ${file.slice(0, 100)}`));
    const full = path.join(opts.dir, file);
    let size: number;
    try {
      size = (await stat(full)).size;
    } catch {
      return sendError(
        reply,
        new MusterError("NOT_FOUND", `Artifact ${file} is listed but missing; rebuild it`),
      );
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

  const verify = opts.verify;
  if (!verify) return;
  app.post("/v1/bootstrap/verify", { bodyLimit: 4096 }, async (request, reply) => {
    try {
      const { token, machineId } = parseOrThrow(VerifyBodySchema, request.body ?? {}, "verify request");
      const { role, expiresAt } = verify(token, machineId);
      return { role, expiresAt };
    } catch (err) {
      if (isMusterError(err)) return sendError(reply, err);
      throw err;
    }
  });
}
