// The controllers that act on Node objects for etcd and node passwords, following k3s:
// - pkg/etcd/member_controller.go (leader-elected, lease "rke2-etcd"): deleting an etcd Node removes
//   its member (matched by the etcd.rke2.cattle.io/node-name and node-address annotations) before the
//   Node goes; annotating etcd.rke2.cattle.io/remove=true removes the member and keeps the Node, then
//   records etcd.rke2.cattle.io/removed-node-name and drops the name/address annotations.
// - pkg/node/controller.go (every server): deleting a Node deletes its node-password secret.
// Both hold a finalizer on every Node (wrangler's OnRemove), so a deleted Node stays, with a
// deletionTimestamp, until they have done their part. Every step tolerates having been done already
// (member not found, secret not found), so a controller that restarts or changes hands is safe.
import { deleteNodePassword } from "../k8s/node-password.ts";
import type { Store } from "../k8s/store.ts";
import { EtcdError, memberList, memberRemove } from "./etcd-client.ts";
import { log } from "./log.ts";
import { ETCD_ANNOTATIONS as A, type KubeNode, NODE_FINALIZERS } from "./nodes.ts";

const [NODE_FINALIZER, ETCD_FINALIZER] = NODE_FINALIZERS as [string, string];
const ETCD_ROLE = "node-role.kubernetes.io/etcd";

async function dropFinalizer(store: Store, node: KubeNode, finalizer: string): Promise<void> {
  await store.mutate<KubeNode>("nodes", undefined, node.metadata.name, (n) => {
    if (!n.metadata.finalizers?.includes(finalizer)) return null;
    n.metadata.finalizers = n.metadata.finalizers.filter((f) => f !== finalizer);
    return n;
  });
}

/** k3s RemovePeer: the member whose name and peer address both match; gone already counts as done. */
async function removePeer(
  endpoints: string[],
  etcdctl: string,
  name: string,
  address: string,
): Promise<void> {
  for (const m of await memberList(endpoints)) {
    if (m.name !== name) continue;
    if (!m.peerURLs.some((u) => new URL(u).hostname === address)) continue;
    log.info(`Removing name=${m.name} id=${m.id} address=${address} from etcd`);
    try {
      await memberRemove(etcdctl, endpoints, m.id);
    } catch (err) {
      if (!(err instanceof EtcdError && /member not found/.test(err.message))) throw err;
    }
  }
}

async function onRemove(endpoints: string[], etcdctl: string, node: KubeNode): Promise<void> {
  const key = node.metadata.name;
  const a = node.metadata.annotations ?? {};
  log.info(`Removing etcd member ${key} from cluster`);
  if (a[A.remove]?.toLowerCase() === "true" && a[A.removedNodeName]) {
    log.info(
      `etcd member ${key} was already removed as member name ${a[A.removedNodeName]} via annotation from the cluster`,
    );
    return;
  }
  const name = a[A.nodeName];
  const address = a[A.nodeAddress];
  if (!name) throw new Error(`node name annotation for node ${key} not found`);
  if (!address) throw new Error(`node address annotation for node ${key} not found`);
  await removePeer(endpoints, etcdctl, name, address);
}

async function sync(store: Store, endpoints: string[], etcdctl: string, node: KubeNode): Promise<void> {
  const key = node.metadata.name;
  const a = node.metadata.annotations ?? {};
  const requested = a[A.remove];
  if (requested === undefined) return;
  const removed = a[A.removedNodeName];
  if (removed !== undefined) {
    const current = a[A.nodeName];
    // k3s compares member names, which carry a random suffix that changes when a wiped server joins
    // again; the simulator's member name is the node name, so "joined again" is read from etcd instead.
    const rejoined =
      current !== undefined &&
      (current !== removed || (await memberList(endpoints)).some((m) => m.name === removed));
    if (rejoined) {
      log.info("Resetting removed node flag as removed node name (did not match current node name");
      await store.mutate<KubeNode>("nodes", undefined, key, (n) => {
        n.metadata.annotations ??= {};
        const ann = n.metadata.annotations;
        delete ann[A.removedNodeName];
        ann[A.remove] = "false";
        return n;
      });
    }
    return;
  }
  if (requested.toLowerCase() !== "true") return;
  const name = a[A.nodeName];
  const address = a[A.nodeAddress];
  if (!name) throw new Error(`node name annotation for node ${key} not found`);
  if (!address) throw new Error(`node address annotation for node ${key} not found`);
  await removePeer(endpoints, etcdctl, name, address);
  await store.mutate<KubeNode>("nodes", undefined, key, (n) => {
    n.metadata.annotations ??= {};
    const ann = n.metadata.annotations;
    ann[A.removedNodeName] = name;
    delete ann[A.nodeName];
    delete ann[A.nodeAddress];
    return n;
  });
}

/** One pass of the etcd member controller (run by the holder of the rke2-etcd lease). */
export async function syncEtcdMembers(store: Store, endpoints: string[], etcdctl: string): Promise<void> {
  for (const node of (await store.list<KubeNode>("nodes")).items) {
    const isEtcd = node.metadata.labels?.[ETCD_ROLE] === "true";
    try {
      if (node.metadata.deletionTimestamp) {
        if (!node.metadata.finalizers?.includes(ETCD_FINALIZER)) continue;
        if (isEtcd) await onRemove(endpoints, etcdctl, node);
        await dropFinalizer(store, node, ETCD_FINALIZER);
      } else if (isEtcd) {
        await sync(store, endpoints, etcdctl, node);
      }
    } catch (err) {
      log.error(
        `error syncing 'managed-etcd-controller' ${node.metadata.name}: ${(err as Error).message}, requeuing`,
      );
    }
  }
}

/** One pass of k3s's node controller's OnRemove (every server runs it). */
export async function syncNodeRemovals(store: Store): Promise<void> {
  for (const node of (await store.list<KubeNode>("nodes")).items) {
    if (!node.metadata.deletionTimestamp || !node.metadata.finalizers?.includes(NODE_FINALIZER)) continue;
    try {
      await deleteNodePassword(store, node.metadata.name);
    } catch (err) {
      log.warn(`Unable to remove node password: ${(err as Error).message}`);
    }
    await dropFinalizer(store, node, NODE_FINALIZER).catch(() => {});
  }
}
