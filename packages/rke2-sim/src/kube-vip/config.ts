// kube-vip's settings from its environment, with kube-vip's names and defaults
// (pkg/kubevip/config_envvar.go, config_environment.go): lease 5/3/1 s, lease plndr-cp-lock in the
// control-plane namespace kube-system, gratuitous ARP every 3000 ms.

export interface KubeVipConfig {
  address: string;
  interface: string;
  port: number;
  arp: boolean;
  controlPlane: boolean;
  services: boolean;
  leaderElection: boolean;
  leaseName: string;
  namespace: string;
  leaseDurationSeconds: number;
  renewDeadlineSeconds: number;
  retryPeriodSeconds: number;
  arpRateMs: number;
  nodeName: string;
}

const truthy = (v: string | undefined) => /^(true|1|yes)$/i.test(v ?? "");

function int(env: Record<string, string | undefined>, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  return Number.isFinite(n) && n > 0 ? n : fallback;
}

export function configFromEnv(env: Record<string, string | undefined>, hostname: string): KubeVipConfig {
  let arpRateMs = int(env, "vip_arpRate", 3000);
  if (arpRateMs < 500) arpRateMs = 3000; // kube-vip: "arp broadcast rate is too low", back to 3000
  return {
    address: env["address"] || env["vip_address"] || "",
    interface: env["vip_interface"] || "",
    port: int(env, "port", 6443),
    arp: truthy(env["vip_arp"]),
    controlPlane: truthy(env["cp_enable"]),
    services: truthy(env["svc_enable"]),
    leaderElection: truthy(env["vip_leaderelection"]),
    leaseName: env["vip_leasename"] || "plndr-cp-lock",
    namespace: env["cp_namespace"] || "kube-system",
    leaseDurationSeconds: int(env, "vip_leaseduration", 5),
    renewDeadlineSeconds: int(env, "vip_renewdeadline", 3),
    retryPeriodSeconds: int(env, "vip_retryperiod", 1),
    arpRateMs,
    nodeName: (env["vip_nodename"] || env["NODE_NAME"] || hostname).toLowerCase(),
  };
}
