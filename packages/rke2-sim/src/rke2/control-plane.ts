// What a server runs besides etcd and the apiserver, wired in one place: the kubelet's pods (from
// kubelet start), and once the apiserver is up the admin kubeconfig and kubectl, the deploy controller
// for server/manifests, the leader-elected controller-manager (lease kube-controller-manager) and etcd
// member controller (lease rke2-etcd), the node controller (every server), and this server's Node.
import { randomUUID } from "node:crypto";
import { reconcilePods } from "../k8s/controller-manager.ts";
import { startElectedLoop } from "../k8s/elected-loop.ts";
import { ensureNodePasswordSecret } from "../k8s/node-password.ts";
import { ApiError, Store } from "../k8s/store.ts";
import type { ServerContext } from "./context.ts";
import { startManifestDeployer } from "./deploy-manifests.ts";
import { memberList } from "./etcd-client.ts";
import { Kv } from "./etcd-kv.ts";
import { clientURLFor } from "./etcd-process.ts";
import { ensureNodePassword } from "./files.ts";
import { installKubectl, writeAdminKubeconfig } from "./kubeconfig.ts";
import { startKubeletPods } from "./kubelet-pods.ts";
import type { Lifecycle } from "./lifecycle.ts";
import { FatalError, log } from "./log.ts";
import { syncEtcdMembers, syncNodeRemovals } from "./member-controller.ts";
import { heartbeat, registerNode } from "./nodes.ts";

const stores = new WeakMap<ServerContext, Store>();
const known = new WeakMap<ServerContext, string[]>();

/** The apiserver's view: the local etcd member only. */
export function localStore(ctx: ServerContext): Store | null {
  if (!ctx.etcd) return null;
  let s = stores.get(ctx);
  if (!s) {
    s = new Store(new Kv(ctx.etcd.localEndpoints));
    stores.set(ctx, s);
  }
  return s;
}

/** The kubelet's pods, from kubelet start (static pods run before etcd and the apiserver exist). */
export function startKubelet(ctx: ServerContext, life: Lifecycle): void {
  const stop = startKubeletPods({
    cfg: ctx.cfg,
    knobs: ctx.knobs,
    store: () => localStore(ctx),
    endpoints: () => [clientURLFor(ctx.loopback), ...(known.get(ctx) ?? [])],
    registriesFile: ctx.cfg.privateRegistry,
  });
  life.onStop(stop);
}

export async function startControlPlane(ctx: ServerContext, life: Lifecycle): Promise<void> {
  const store = localStore(ctx)!;
  const { cfg, knobs } = ctx;
  const kubeconfig = await writeAdminKubeconfig(cfg, ctx.ca, ctx.loopback);
  const kubectl = installKubectl(cfg.dataDir, knobs.version);
  log.info(`Wrote kubeconfig ${kubeconfig}; kubectl is ${kubectl}`);

  // The cluster's voters, for pods that reach the cluster the way in-cluster clients do.
  const refresh = async () => {
    const members = await memberList(ctx.etcd?.localEndpoints ?? []).catch(() => null);
    if (members)
      known.set(
        ctx,
        members.filter((m) => !m.isLearner).flatMap((m) => m.clientURLs),
      );
  };
  await refresh();
  const refresher = setInterval(() => void refresh(), 5000);
  life.onStop(() => clearInterval(refresher));

  life.onStop(startManifestDeployer(cfg, store));
  const controllerManager = startElectedLoop({
    store,
    lease: "kube-controller-manager",
    identity: `${cfg.nodeName}_${randomUUID()}`,
    leaseSeconds: knobs.controllerLeaseSeconds,
    periodMs: 2000,
    tick: () => reconcilePods(store),
    log: (m) => log.debug(m),
  });
  const memberController = startElectedLoop({
    store,
    lease: "rke2-etcd",
    identity: cfg.nodeName,
    leaseSeconds: knobs.controllerLeaseSeconds,
    periodMs: 2000,
    tick: () => syncEtcdMembers(store, ctx.etcd?.localEndpoints ?? [], knobs.etcdctlBin),
    log: (m) => log.debug(m),
  });
  let busy = false;
  const nodeController = setInterval(() => {
    if (busy) return;
    busy = true;
    syncNodeRemovals(store)
      .catch(() => {})
      .finally(() => {
        busy = false;
      });
  }, 2000);
  life.onStop(async () => {
    clearInterval(nodeController);
    await Promise.all([controllerManager.stop(), memberController.stop()]);
  });
}

/** This server's kubelet: node password check, Node registration, then status updates. */
export async function registerServerNode(ctx: ServerContext, life: Lifecycle): Promise<void> {
  const store = localStore(ctx)!;
  const { cfg, knobs } = ctx;
  const reg = {
    name: cfg.nodeName,
    address: cfg.nodeIP,
    role: "server" as const,
    labels: cfg.nodeLabels,
    taints: cfg.nodeTaints,
    etcdMember: cfg.nodeName,
  };
  if (!(await ensureNodePasswordSecret(store, cfg.nodeName, ensureNodePassword(cfg.dataDir)))) {
    throw new FatalError(
      `Node password rejected, duplicate hostname or contents of '/etc/rancher/node/password' may not match server node-passwd entry, try enabling a unique node name with the --with-node-id flag`,
    );
  }
  await registerNode(store, reg, knobs.version);
  const timer = setInterval(() => {
    heartbeat(store, reg, knobs.version).catch((err: Error) => {
      const why =
        err instanceof ApiError ? `error getting node "${cfg.nodeName}": ${err.message}` : err.message;
      log.error(`Error updating node status, will retry: ${why}`);
    });
  }, knobs.heartbeatSeconds * 1000);
  life.onStop(() => clearInterval(timer));
}
