import { stringify } from "yaml";
import type { VipSettings } from "./spec.ts";

// kube-vip's manifest as muster writes it into every server's server/manifests/ (RKE2 applies the
// files there at start and on change): RBAC plus a DaemonSet on control-plane nodes, ARP mode,
// control-plane VIP, leader election through the Lease plndr-cp-lock. Shaped like what
// `kube-vip manifest daemonset --arp --controlplane --leaderElection` prints. Why a DaemonSet and not
// a static pod: docs/architecture.md#the-registration-address-kube-vip.

/** File name in server/manifests/ (RKE2 wants an RFC 1123 name). */
export const KUBE_VIP_MANIFEST = "muster-kube-vip.yaml";
export const KUBE_VIP_LEASE = "plndr-cp-lock";

/** The image reference kube-vip runs as. */
export function kubeVipImage(vip: VipSettings): string {
  return `${vip.kubeVip.image}:${vip.kubeVip.version}`;
}

/** The air-gap image tarball's file name, as the coordinator serves it under /v1/artifacts/images/. */
export function kubeVipImageFile(vip: VipSettings): string {
  return `kube-vip-${vip.kubeVip.version}.tar`;
}

const LABELS = { "app.kubernetes.io/name": "kube-vip-ds", "app.kubernetes.io/managed-by": "muster" };

function env(vip: VipSettings) {
  const k = vip.kubeVip;
  return [
    { name: "vip_arp", value: "true" },
    { name: "port", value: "6443" },
    { name: "vip_interface", value: vip.interface },
    { name: "vip_cidr", value: "32" },
    { name: "cp_enable", value: "true" },
    { name: "cp_namespace", value: "kube-system" },
    { name: "svc_enable", value: "false" },
    { name: "vip_leaderelection", value: "true" },
    { name: "vip_leasename", value: KUBE_VIP_LEASE },
    { name: "vip_leaseduration", value: String(k.leaseDurationSeconds) },
    { name: "vip_renewdeadline", value: String(k.renewDeadlineSeconds) },
    { name: "vip_retryperiod", value: String(k.retryPeriodSeconds) },
    { name: "address", value: vip.address },
    { name: "vip_nodename", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } },
  ];
}

function rbac() {
  return [
    {
      apiVersion: "v1",
      kind: "ServiceAccount",
      metadata: { name: "kube-vip", namespace: "kube-system", labels: LABELS },
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: {
        name: "system:kube-vip-role",
        labels: LABELS,
        annotations: { "rbac.authorization.kubernetes.io/autoupdate": "true" },
      },
      rules: [
        { apiGroups: [""], resources: ["services/status"], verbs: ["update"] },
        { apiGroups: [""], resources: ["services", "endpoints"], verbs: ["list", "get", "watch", "update"] },
        { apiGroups: [""], resources: ["nodes"], verbs: ["list", "get", "watch", "update", "patch"] },
        {
          apiGroups: ["coordination.k8s.io"],
          resources: ["leases"],
          verbs: ["list", "get", "watch", "update", "create"],
        },
        { apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"], verbs: ["list", "get", "watch"] },
      ],
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name: "system:kube-vip-binding", labels: LABELS },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "system:kube-vip-role" },
      subjects: [{ kind: "ServiceAccount", name: "kube-vip", namespace: "kube-system" }],
    },
  ];
}

function daemonSet(vip: VipSettings) {
  return {
    apiVersion: "apps/v1",
    kind: "DaemonSet",
    metadata: { name: "kube-vip-ds", namespace: "kube-system", labels: LABELS },
    spec: {
      selector: { matchLabels: { "app.kubernetes.io/name": "kube-vip-ds" } },
      template: {
        metadata: { labels: LABELS },
        spec: {
          affinity: {
            nodeAffinity: {
              requiredDuringSchedulingIgnoredDuringExecution: {
                nodeSelectorTerms: [
                  { matchExpressions: [{ key: "node-role.kubernetes.io/master", operator: "Exists" }] },
                  {
                    matchExpressions: [{ key: "node-role.kubernetes.io/control-plane", operator: "Exists" }],
                  },
                ],
              },
            },
          },
          hostNetwork: true,
          serviceAccountName: "kube-vip",
          // Servers may carry CriticalAddonsOnly (spec.servers.dedicated) or be NotReady early on.
          tolerations: [
            { effect: "NoSchedule", operator: "Exists" },
            { effect: "NoExecute", operator: "Exists" },
          ],
          containers: [
            {
              name: "kube-vip",
              image: kubeVipImage(vip),
              imagePullPolicy: "IfNotPresent",
              args: ["manager"],
              env: env(vip),
              securityContext: { capabilities: { add: ["NET_ADMIN", "NET_RAW"] } },
            },
          ],
        },
      },
    },
  };
}

/** The manifest file's content: RBAC and the DaemonSet, one YAML stream. */
export function renderKubeVipManifest(vip: VipSettings): string {
  const header = "# Written by muster from the cluster spec (vip). Edit the spec, not this file.\n";
  return header + [...rbac(), daemonSet(vip)].map((d) => stringify(d, { lineWidth: 0 })).join("---\n");
}
