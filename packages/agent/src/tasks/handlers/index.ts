import type { TaskHandlers } from "../types.ts";
import { rke2ConfigCredential } from "./config-credential.ts";
import { etcdMemberRemove, etcdMoveLeader, etcdStatus } from "./etcd.ts";
import {
  kubeAnnotate,
  kubeCordon,
  kubeDeleteNode,
  kubeDeleteNodePassword,
  kubeDrain,
  kubeKubeconfig,
  kubeNodes,
} from "./kube.ts";
import { portsProbe } from "./ports.ts";
import { rke2Install, rke2Start, rke2Stop, rke2Uninstall, rke2WipeDb } from "./rke2.ts";
import { rke2ClusterReset, rke2SnapshotList, rke2SnapshotSave } from "./snapshots.ts";
import { vipObserve, vipRelease } from "./vip.ts";

// Every task kind this agent can run, by kind. A kind missing here is answered "this agent cannot
// run <kind> tasks", so an older agent fails a newer coordinator's task clearly instead of hanging.
export const TASK_HANDLERS: TaskHandlers = {
  "etcd.status": etcdStatus,
  "etcd.move-leader": etcdMoveLeader,
  "etcd.member-remove": etcdMemberRemove,
  "kube.nodes": kubeNodes,
  "kube.cordon": kubeCordon,
  "kube.drain": kubeDrain,
  "kube.annotate": kubeAnnotate,
  "kube.delete-node": kubeDeleteNode,
  "kube.delete-node-password": kubeDeleteNodePassword,
  "kube.kubeconfig": kubeKubeconfig,
  "rke2.stop": rke2Stop,
  "rke2.start": rke2Start,
  "rke2.config-credential": rke2ConfigCredential,
  "rke2.uninstall": rke2Uninstall,
  "rke2.wipe-db": rke2WipeDb,
  "rke2.install": rke2Install,
  "rke2.snapshot-save": rke2SnapshotSave,
  "rke2.snapshot-list": rke2SnapshotList,
  "rke2.cluster-reset": rke2ClusterReset,
  "vip.observe": vipObserve,
  "vip.release": vipRelease,
  "ports.probe": portsProbe,
};
