import { mkdir, readdir } from "node:fs/promises";
import { networkInterfaces } from "node:os";
import path from "node:path";
import type { Logger } from "@muster/shared";
import { createRegistrationProbe } from "../adapters/registration-probe.ts";
import { createCoordinator } from "../domain/coordinator.ts";
import type { CoordinatorService } from "../domain/service.ts";
import { bootstrapScriptProvider, defaultArtifactsDir } from "../transport/delivery/artifacts.ts";
import { createImageDir, IMAGES_SUBDIR } from "../transport/delivery/images.ts";
import { buildApp, type MusterApp } from "../transport/http/app.ts";
import { DEFAULT_LIMITS, type FrontDoorLimits } from "../transport/http/limits.ts";
import { defaultConsoleDir } from "../transport/http/routes/console.ts";
import { loadOrCreateAdminToken, loadOrCreateMetricsToken } from "./admin-token.ts";
import { loadClusterConfig, loadLimitsFile } from "./config-file.ts";
import { loadOrCreateTls } from "./tls.ts";

// Wires the pieces for `muster-coordinator serve`: state dir, domain, admin token, TLS, app, port.
// Everything here is start-up order and shutdown order; the behaviour lives in the modules.

export interface ServeOptions {
  stateDir: string;
  host: string;
  port: number;
  advertiseUrl?: string;
  tlsCert?: string;
  tlsKey?: string;
  configFile?: string;
  /** YAML of front-door limits (transport/http/limits.ts); defaults without it. */
  limitsFile?: string;
  /** Front-door limits given directly (tests, bench); wins over limitsFile. */
  limits?: FrontDoorLimits;
  logger: Logger;
  bootstrapScript?: () => string;
  /** Agent bundles to serve; default: the built ones next to this install (dist/artifacts). */
  artifactsDir?: string;
  /** The web console to serve at /; default: the built one next to this install (dist/console). */
  consoleDir?: string;
  /** Agent channel timing (bench and tests). */
  heartbeatSeconds?: number;
}

export interface RunningCoordinator {
  app: MusterApp;
  service: CoordinatorService;
  url: string;
  pin: string;
  port: number;
  /** Stop accepting, close agent sockets with 1001, close the domain (store). Safe to call twice. */
  close(): Promise<void>;
}

/** The first IPv4 address that is not loopback: a sensible default for agents to dial. */
export function firstLanIPv4(): string | undefined {
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === "IPv4" && !a.internal) return a.address;
  }
  return undefined;
}

function isWildcard(host: string): boolean {
  return host === "0.0.0.0" || host === "::" || host === "";
}

export async function serve(opts: ServeOptions): Promise<RunningCoordinator> {
  const log = opts.logger;
  // images/ may be put there before the first start (air-gap tarballs to serve): not a sign of one.
  const firstStart =
    (await readdir(opts.stateDir).catch(() => [])).filter((f) => f !== IMAGES_SUBDIR).length === 0;
  await mkdir(opts.stateDir, { recursive: true, mode: 0o700 });

  // Validate the config before touching the store, so a typo changes nothing.
  const spec = opts.configFile ? await loadClusterConfig(opts.configFile) : undefined;
  const limits = opts.limits ?? (opts.limitsFile ? await loadLimitsFile(opts.limitsFile) : DEFAULT_LIMITS);
  const admin = await loadOrCreateAdminToken(opts.stateDir);
  if (admin.created && firstStart)
    log.info({ adminTokenFile: admin.path }, `admin token written to ${admin.path}`);
  else if (admin.created)
    log.warn(
      { adminTokenFile: admin.path },
      `admin token file ${admin.path} was missing: a new admin token was written there; the old one no longer works`,
    );

  const metricsToken = await loadOrCreateMetricsToken(opts.stateDir);

  const advertiseHost = opts.advertiseUrl
    ? new URL(opts.advertiseUrl).hostname.replace(/^\[|\]$/g, "")
    : isWildcard(opts.host)
      ? (firstLanIPv4() ?? "127.0.0.1")
      : opts.host;
  const tls = await loadOrCreateTls({
    stateDir: opts.stateDir,
    hosts: [advertiseHost, ...(isWildcard(opts.host) ? [] : [opts.host])],
    ...(opts.tlsCert ? { certFile: opts.tlsCert } : {}),
    ...(opts.tlsKey ? { keyFile: opts.tlsKey } : {}),
  });
  log.info({ tls: tls.action }, `TLS certificate ${tls.action}`);

  // A spec from --config replaces the stored one if the domain allows the change; else start fails.
  const images = createImageDir(path.join(opts.stateDir, IMAGES_SUBDIR));
  const service = createCoordinator({
    stateDir: opts.stateDir,
    imageSha256: images.sha256,
    logger: log,
    registrationProbe: (token) => createRegistrationProbe({ token, logger: log }),
    ...(spec ? { spec } : {}),
    ...(opts.heartbeatSeconds ? { heartbeatSeconds: opts.heartbeatSeconds } : {}),
  });
  const artifactsDir = opts.artifactsDir ?? defaultArtifactsDir();
  let app: MusterApp | undefined;
  try {
    // The port is known only after listen when it is 0, so the public URL is resolved lazily.
    let url = opts.advertiseUrl?.replace(/\/+$/, "") ?? "";
    app = await buildApp({
      service,
      logger: log,
      publicUrl: () => url,
      pin: tls.pin,
      adminTokenHash: admin.hash,
      metricsTokenHash: metricsToken.hash,
      https: { cert: tls.cert, key: tls.key },
      artifactsDir,
      images,
      consoleDir: opts.consoleDir ?? defaultConsoleDir(),
      bootstrapScript:
        opts.bootstrapScript ??
        bootstrapScriptProvider({ coordinatorUrl: () => url, pin: tls.pin, artifactsDir }),
      hub: { heartbeatSeconds: service.heartbeatSeconds },
      limits,
    });
    service.start();
    await app.listen({ host: opts.host, port: opts.port });
    const address = app.server.address();
    const port = typeof address === "object" && address ? address.port : opts.port;
    if (url === "")
      url = `https://${advertiseHost.includes(":") ? `[${advertiseHost}]` : advertiseHost}:${port}`;
    log.info(
      {
        url,
        pin: tls.pin,
        adminTokenFile: admin.path,
        stateDir: opts.stateDir,
        listen: `${opts.host}:${port}`,
      },
      `muster coordinator serving ${url} (pin ${tls.pin}); admin token in ${admin.path}`,
    );
    const running = app;
    let closing: Promise<void> | undefined;
    const close = () => {
      closing ??= (async () => {
        await running.close();
        await service.close();
      })();
      return closing;
    };
    return { app: running, service, url, pin: tls.pin, port, close };
  } catch (err) {
    await app?.close().catch(() => {});
    await service.close();
    throw err;
  }
}
