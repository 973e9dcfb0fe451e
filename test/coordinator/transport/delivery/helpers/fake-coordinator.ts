import { createHash } from "node:crypto";
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { bootstrapScriptProvider } from "@muster/coordinator/transport/delivery/artifacts";
import { artifactsRoutes } from "@muster/coordinator/transport/delivery/artifacts-routes";
import { errorHandler } from "@muster/coordinator/transport/http/errors";
import { openRoutes } from "@muster/coordinator/transport/http/routes/open";
import { MusterError, RoleConflict } from "@muster/shared";
import Fastify from "fastify";
import { createTar } from "../../../../../scripts/lib/tar.ts";
import type { TestTls } from "./tls-cert.ts";

// The coordinator's delivery surface on a real HTTPS port: its open routes (/v1/bootstrap.sh rendered
// from an artifacts dir, /v1/bootstrap/verify over a canned token check) and /v1/artifacts/:file.

const ROOT = path.resolve(import.meta.dirname, "../../../../..");
export const TOKENS = {
  server: "abcdef.0123456789abcdef",
  agent: "agentt.0123456789abcdef",
  expired: "expird.0123456789abcdef",
  revoked: "revokd.0123456789abcdef",
  unknown: "zzzzzz.0123456789abcdef",
};

/** Machines the fake knows as enrolled servers: an agent token is refused for them, as the real one does. */
export const enrolledServers = new Set<string>();
/** Every machine id the bootstrap sent with a verify request. */
export const verifiedMachineIds: (string | undefined)[] = [];

function verify(token: string, machineId?: string) {
  verifiedMachineIds.push(machineId);
  if (token === TOKENS.server)
    return { id: "abcdef", role: "server" as const, expiresAt: "2099-01-01T00:00:00.000Z" };
  if (token === TOKENS.agent) {
    if (machineId !== undefined && enrolledServers.has(machineId))
      throw new RoleConflict({ role: "server", name: "s0" }, "agent");
    return { id: "agentt", role: "agent" as const, expiresAt: "2099-01-01T00:00:00.000Z" };
  }
  if (token === TOKENS.expired) throw new MusterError("UNAUTHORIZED", "join token expird has expired");
  if (token === TOKENS.revoked) throw new MusterError("UNAUTHORIZED", "join token revokd was revoked");
  throw new MusterError("UNAUTHORIZED", "unknown join token");
}

/** A stand-in agent bundle: the real unit file, and a bin/muster-agent that only says its version. */
export function writeTestBundle(dir: string, version: string): string {
  const sh = (body: string) => Buffer.from(`#!/bin/sh\n${body}\n`);
  const tgz = gzipSync(
    createTar(
      [
        { name: "VERSION", type: "file", mode: 0o644, data: Buffer.from(`${version}\n`) },
        { name: "bin", type: "dir", mode: 0o755 },
        { name: "bin/muster-agent", type: "file", mode: 0o755, data: sh(`echo "fake agent ${version}"`) },
        { name: "bin/node", type: "file", mode: 0o755, data: sh("echo fake node") },
        { name: "share", type: "dir", mode: 0o755 },
        {
          name: "share/muster-agent.service",
          type: "file",
          mode: 0o644,
          data: readFileSync(path.join(ROOT, "systemd/muster-agent.service")),
        },
      ],
      946684800,
    ),
  );
  const sha = createHash("sha256").update(tgz).digest("hex");
  const put = (name: string, data: Buffer | string) => {
    writeFileSync(path.join(dir, `.${name}.tmp`), data);
    renameSync(path.join(dir, `.${name}.tmp`), path.join(dir, name));
  };
  put("muster-agent-linux-amd64.tar.gz", tgz);
  put("muster-agent-linux-arm64.tar.gz", tgz);
  put("VERSION", `${version}\n`);
  put("SHA256SUMS", `${sha}  muster-agent-linux-amd64.tar.gz\n${sha}  muster-agent-linux-arm64.tar.gz\n`);
  return sha;
}

export interface FakeCoordinator {
  url: string;
  close(): Promise<void>;
}

export async function startFakeCoordinator(tls: TestTls, artifactsDir: string): Promise<FakeCoordinator> {
  const app = Fastify({ https: { cert: tls.cert, key: tls.key } });
  let url = "";
  const script = bootstrapScriptProvider({ coordinatorUrl: () => url, pin: tls.pin, artifactsDir });
  app.setErrorHandler(errorHandler);
  openRoutes(app, { verifyJoinToken: verify }, script);
  await app.register(artifactsRoutes, { dir: artifactsDir });
  await app.listen({ host: "127.0.0.1", port: 0 });
  const address = app.server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  url = `https://127.0.0.1:${address.port}`;
  return { url, close: () => app.close() };
}
