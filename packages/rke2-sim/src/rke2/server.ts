// `rke2 server`: the first server (no `server:` in its config) creates the cluster; any other joins it.
// Either way: supervisor on 9345 first, then etcd, the apiserver on 6443, node registration, and only
// when this etcd member votes and the apiserver is ready, READY=1 to systemd.

import { notReadyReason, startApiserver } from "./apiserver.ts";
import { loopbackFor, type SimConfig } from "./config.ts";
import type { ServerContext } from "./context.ts";
import { registerServerNode, startControlPlane, startKubelet } from "./control-plane.ts";
import { type Knobs, untilUptime } from "./env.ts";
import { etcdExitMessage } from "./etcd-exit.ts";
import { type Etcd, isInitialised, peerURLFor, startEtcd, waitHealthy } from "./etcd-process.ts";
import { loadCA, readToken, saveCA, saveServing, writeTokens } from "./files.ts";
import type { Listener } from "./http.ts";
import { bootstrapFromServer, joinEtcd } from "./join.ts";
import { startKubeletHealthz } from "./kubelet.ts";
import { startLearnerManager } from "./learners.ts";
import type { Lifecycle } from "./lifecycle.ts";
import { FatalError, log } from "./log.ts";
import { notifyReady } from "./notify.ts";
import { createCA, issueCert, type KeyPair } from "./pki.ts";
import { startSupervisor } from "./supervisor-api.ts";
import { generatePassword, parseToken } from "./token.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function servingSANs(cfg: SimConfig, loopback: string): string[] {
  return [
    cfg.nodeIP,
    loopback,
    "127.0.0.1",
    "::1",
    "localhost",
    cfg.nodeName,
    "kubernetes",
    "kubernetes.default",
    "kubernetes.default.svc",
    `kubernetes.default.svc.${cfg.clusterDomain}`,
    ...cfg.tlsSan,
  ];
}

/** Credentials and CA of a new cluster, reusing what an earlier run of this server created. */
async function initCluster(cfg: SimConfig): Promise<{ ca: KeyPair; password: string }> {
  const existing = readToken(cfg.dataDir);
  let password = existing?.password ?? generatePassword();
  if (cfg.token) {
    password = parseToken(cfg.token).password;
    if (existing && existing.password !== password) {
      throw new FatalError("bootstrap data already found and encrypted with different token");
    }
  }
  let ca = loadCA(cfg.dataDir);
  if (!ca) {
    ca = await createCA(`rke2-server-ca@${Math.floor(Date.now() / 1000)}`);
    saveCA(cfg.dataDir, ca);
  }
  return { ca, password };
}

function watchEtcd(etcd: Etcd, dataDir: string, life: Lifecycle): void {
  void etcd.exited.then((code) => life.fail(etcdExitMessage(dataDir, code)));
}

async function waitFor(what: string, check: () => Promise<string | null>): Promise<void> {
  let lastLogged = 0;
  for (;;) {
    const reason = await check();
    if (reason === null) return;
    if (Date.now() - lastLogged > 10_000) {
      log.info(`Waiting for ${what}: ${reason}`);
      lastLogged = Date.now();
    }
    await sleep(500);
  }
}

export async function runServer(cfg: SimConfig, knobs: Knobs, life: Lifecycle): Promise<void> {
  const loopback = loopbackFor(cfg.nodeIP);
  const joining = cfg.server !== null;
  if (joining && !cfg.token) throw new FatalError("--token is required when joining a cluster with --server");
  // A joiner whose etcd data, CA and token are already on disk does not ask the server again (k3s's
  // "bootstrap already complete and initialized"): it restarts from its own data, so a server whose
  // cluster was reset on it (--cluster-reset) comes back while its `server:` peer is still stopped.
  const initialised =
    joining && isInitialised(cfg.dataDir) && loadCA(cfg.dataDir) !== null && readToken(cfg.dataDir) !== null;
  if (initialised) log.info("Managed etcd cluster bootstrap already complete and initialized");
  const access = joining && !initialised ? await bootstrapFromServer(cfg) : null;
  const { ca, password } = access
    ? { ca: access.ca, password: access.auth.password }
    : await initCluster(cfg);
  if (access) saveCA(cfg.dataDir, ca);
  const agentPassword = cfg.agentToken ? parseToken(cfg.agentToken, "node").password : null;
  writeTokens(cfg.dataDir, ca.certPem, password, agentPassword);
  const serving = await issueCert(ca, {
    commonName: "rke2",
    sans: servingSANs(cfg, loopback),
    usage: "server",
  });
  saveServing(cfg.dataDir, serving);
  const ctx: ServerContext = {
    cfg,
    knobs,
    loopback,
    ca,
    serving,
    serverPassword: password,
    agentPassword: agentPassword ?? password,
    etcd: null,
    ready: false,
  };
  const listeners: Listener[] = [];
  life.onStop(async () => {
    await Promise.all(listeners.map((l) => l.close()));
  });
  listeners.push(await startSupervisor(ctx), await startKubeletHealthz(loopback));
  log.info(`Running supervisor on ${cfg.bindAddress}:9345, kubelet healthz on ${loopback}:10248`);
  startKubelet(ctx, life);

  const peerURL = peerURLFor(cfg.nodeIP);
  let initialCluster = `${cfg.nodeName}=${peerURL}`;
  if (joining) {
    // Image import, container runtime and kubelet start come before the etcd join (half the total).
    await untilUptime(knobs.joinSeconds / 2);
    if (isInitialised(cfg.dataDir)) log.info("etcd data already present: restarting the existing member");
    else if (access) initialCluster = await joinEtcd(cfg, knobs, access, peerURL);
  } else {
    log.info("Starting etcd for new cluster");
  }
  const etcd = await startEtcd(
    {
      name: cfg.nodeName,
      dataDir: cfg.dataDir,
      nodeIP: cfg.nodeIP,
      loopback,
      exposeMetrics: cfg.etcdExposeMetrics,
      initialCluster,
      initialState: joining ? "existing" : "new",
    },
    knobs,
  );
  ctx.etcd = etcd;
  life.onStop(() => etcd.stop());
  watchEtcd(etcd, cfg.dataDir, life);
  if (!(await waitHealthy(etcd, 120_000))) throw new FatalError("etcd did not become healthy within 120s");
  log.info("etcd is healthy");
  if (!joining) await untilUptime(knobs.initSeconds); // control-plane static pods starting
  listeners.push(await startApiserver(ctx));
  log.info(`Running kube-apiserver on ${cfg.bindAddress}:6443`);
  const stopLearners = startLearnerManager(ctx);
  life.onStop(stopLearners);
  await waitFor("etcd member promotion and apiserver readiness", () => notReadyReason(ctx));
  await startControlPlane(ctx, life);

  await registerServerNode(ctx, life);
  // A joiner's total (RKE2_SIM_JOIN_SECONDS) ends here, after etcd promoted it to voter.
  if (joining) await untilUptime(knobs.joinSeconds);
  ctx.ready = true;
  log.info("rke2 is up and running");
  await notifyReady("rke2 server is ready");
}
