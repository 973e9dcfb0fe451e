// kube-vip manifests shaped like `kube-vip manifest daemonset|pod --arp --controlplane --leaderElection`
// prints them (ARP, control-plane VIP, lease plndr-cp-lock), for the simulator's tests.
import { stringify } from "yaml";

export interface VipOptions {
  address: string;
  iface: string;
  version?: string;
  lease?: [duration: number, renew: number, retry: number];
}

function env(o: VipOptions, nodeNameFromField: boolean) {
  const [d, r, p] = o.lease ?? [5, 3, 1];
  return [
    { name: "vip_arp", value: "true" },
    { name: "port", value: "6443" },
    { name: "vip_interface", value: o.iface },
    { name: "vip_cidr", value: "32" },
    { name: "cp_enable", value: "true" },
    { name: "cp_namespace", value: "kube-system" },
    { name: "svc_enable", value: "false" },
    { name: "vip_leaderelection", value: "true" },
    { name: "vip_leasename", value: "plndr-cp-lock" },
    { name: "vip_leaseduration", value: String(d) },
    { name: "vip_renewdeadline", value: String(r) },
    { name: "vip_retryperiod", value: String(p) },
    { name: "address", value: o.address },
    ...(nodeNameFromField
      ? [{ name: "vip_nodename", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } }]
      : []),
  ];
}

function container(o: VipOptions, nodeNameFromField: boolean) {
  return {
    name: "kube-vip",
    image: `ghcr.io/kube-vip/kube-vip:${o.version ?? "v0.9.2"}`,
    imagePullPolicy: "IfNotPresent",
    args: ["manager"],
    env: env(o, nodeNameFromField),
    securityContext: { capabilities: { add: ["NET_ADMIN", "NET_RAW"] } },
  };
}

export function daemonSetManifest(o: VipOptions): string {
  const rbac = [
    { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "kube-vip", namespace: "kube-system" } },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: { name: "system:kube-vip-role" },
    },
  ];
  const ds = {
    apiVersion: "apps/v1",
    kind: "DaemonSet",
    metadata: {
      name: "kube-vip-ds",
      namespace: "kube-system",
      labels: { "app.kubernetes.io/name": "kube-vip-ds" },
    },
    spec: {
      selector: { matchLabels: { "app.kubernetes.io/name": "kube-vip-ds" } },
      template: {
        metadata: { labels: { "app.kubernetes.io/name": "kube-vip-ds" } },
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
          tolerations: [
            { effect: "NoSchedule", operator: "Exists" },
            { effect: "NoExecute", operator: "Exists" },
          ],
          containers: [container(o, true)],
        },
      },
    },
  };
  return [...rbac, ds].map((d) => stringify(d)).join("---\n");
}

export function staticPodManifest(o: VipOptions): string {
  return stringify({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "kube-vip", namespace: "kube-system" },
    spec: {
      hostNetwork: true,
      containers: [container(o, false)],
      volumes: [{ name: "kubeconfig", hostPath: { path: "/etc/rancher/rke2/rke2.yaml" } }],
    },
  });
}
