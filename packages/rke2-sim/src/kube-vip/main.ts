// A simulated kube-vip container (ARP mode, control-plane VIP), run by the simulated kubelet with the
// env of the pod's kube-vip container. What it does follows kube-vip's own code:
// - cmd/kube-vip.go: the interface is checked first; a missing one ends the process with
//   `command failed err="checking interface: <if> is not valid interface, ..."` (exit 1).
// - pkg/cluster/clusterLeaderElection.go StartCluster: delete the VIP if it is already on the interface
//   (a previous, killed instance leaves it there), then leader election on the Lease; the leader adds
//   <vip>/32 and (pkg/arp) re-checks the address and sends a gratuitous ARP every vip_arpRate ms;
//   OnStoppedLeading deletes the VIP and logs "lost leadership, restarting kube-vip" (the process ends,
//   the kubelet restarts it).
// - pkg/manager: SIGTERM cancels the election (ReleaseOnCancel: the lease is released) and the VIP is
//   deleted. SIGKILL leaves both: the address stays on the interface, the lease runs out.
// The cluster is reached through any etcd member the pod can reach (a DaemonSet pod uses in-cluster
// config, i.e. the kubernetes service, which keeps working when this node's apiserver is down).
import { hostname } from "node:os";
import { LeaderElector } from "../k8s/leader-election.ts";
import { Store } from "../k8s/store.ts";
import { memberList } from "../rke2/etcd-client.ts";
import { Kv } from "../rke2/etcd-kv.ts";
import { configFromEnv } from "./config.ts";
import { klog, log, setLogFile } from "./log.ts";
import { addAddress, deleteAddress, linkExists, sendGratuitousArp } from "./network.ts";

const env = process.env;
if (env["KUBE_VIP_SIM_LOG"]) setLogFile(env["KUBE_VIP_SIM_LOG"]);
const version = env["KUBE_VIP_SIM_VERSION"] || "v0.9.2";
const cfg = configFromEnv(env, hostname());

function fail(err: string): never {
  log.error("command failed", { err });
  process.exit(1);
}

log.info(`Starting kube-vip.io [${version}]`);
if (!cfg.arp)
  fail(
    "no valid kube-vip mode detected, ensure a supported mode is configured (the simulator has ARP mode only)",
  );
log.info("starting", {
  namespace: cfg.namespace,
  Mode: "ARP",
  "Control Plane": cfg.controlPlane,
  Services: cfg.services,
});
if (!cfg.controlPlane && !cfg.services) fail("no features are enabled");
if (!cfg.interface) fail("detecting interface: the simulator needs vip_interface");
if (!(await linkExists(cfg.interface))) {
  fail(
    `checking interface: ${cfg.interface} is not valid interface, reason: get ${cfg.interface} failed, error: Link not found`,
  );
}
if (!cfg.address) fail("new manager: no address is specified for kube-vip to expose");
log.info("Starting Kube-vip Manager with the ARP engine");

// Endpoints: the ones the kubelet knew, refreshed from the member list (voters only) as servers join.
let endpoints = (env["KUBE_VIP_SIM_ENDPOINTS"] ?? "").split(",").filter(Boolean);
const local = endpoints.slice(0, 1);
async function refreshEndpoints(): Promise<void> {
  try {
    const members = await memberList(endpoints);
    const voters = members.filter((m) => !m.isLearner).flatMap((m) => m.clientURLs);
    if (voters.length) endpoints = [...new Set([...local, ...voters])];
  } catch {}
}
await refreshEndpoints();
const refresher = setInterval(() => void refreshEndpoints(), 5000);
const store = new Store(new Kv(() => endpoints, 1000));

// pkg/arp: while leading, every vip_arpRate ms make sure the address is there and announce it.
let arpTimer: NodeJS.Timeout | null = null;
async function advertise(): Promise<void> {
  try {
    if (await addAddress(cfg.interface, cfg.address)) {
      log.warn("Re-applied the VIP configuration", { ip: cfg.address, interface: cfg.interface });
    }
    await sendGratuitousArp(cfg.interface, cfg.address);
  } catch (err) {
    log.warn((err as Error).message);
  }
}

async function startVip(): Promise<void> {
  try {
    await addAddress(cfg.interface, cfg.address);
    log.info("Gratuitous Arp broadcast will repeat every 3 seconds for", {
      ip: cfg.address,
      interface: cfg.interface,
      rate_ms: cfg.arpRateMs,
    });
  } catch (err) {
    log.error("starting VIP service on leader", { err: (err as Error).message });
  }
  void advertise();
  arpTimer = setInterval(() => void advertise(), cfg.arpRateMs);
}

async function stopVip(): Promise<void> {
  if (arpTimer) clearInterval(arpTimer);
  arpTimer = null;
  log.info("[VIP] Deleting VIP", { ip: cfg.address });
  if (await deleteAddress(cfg.interface, cfg.address)) {
    log.info("deleted address", { IP: cfg.address, interface: cfg.interface });
  }
}

// StartCluster: (attempt to) remove the VIP in case it already exists.
if (await deleteAddress(cfg.interface, cfg.address)) {
  log.info("deleted address", { IP: cfg.address, interface: cfg.interface });
}
log.info("cluster membership", { namespace: cfg.namespace, lock: cfg.leaseName, id: cfg.nodeName });

let stopping: Promise<void> | null = null;
let leading = false;
let stopped: (() => void) | null = null;
const vipDown = new Promise<void>((resolve) => {
  stopped = resolve;
});

if (!cfg.leaderElection) {
  // Without leader election every instance takes the VIP (kube-vip's "no leader election" mode).
  log.info("Beginning cluster membership without leader election");
  await startVip();
  const end = async () => {
    log.info("Received kube-vip termination, signaling shutdown");
    await stopVip();
    process.exit(0);
  };
  process.on("SIGTERM", () => void end());
  process.on("SIGINT", () => void end());
} else {
  const elector = new LeaderElector({
    store,
    namespace: cfg.namespace,
    name: cfg.leaseName,
    identity: cfg.nodeName,
    leaseDurationMs: cfg.leaseDurationSeconds * 1000,
    renewDeadlineMs: cfg.renewDeadlineSeconds * 1000,
    retryPeriodMs: cfg.retryPeriodSeconds * 1000,
    releaseOnCancel: true,
    onStartedLeading: () => {
      leading = true;
      void startVip();
    },
    onStoppedLeading: () => {
      log.info("This node is becoming a follower within the cluster");
      void stopVip().finally(() => stopped?.());
    },
    onNewLeader: (identity) => log.info("New leader", { leader: identity }),
    log: (line) => klog("I", line),
    logError: (line) => klog("E", line),
  });
  const end = () => {
    stopping ??= (async () => {
      log.info("Received kube-vip termination, signaling shutdown");
      clearInterval(refresher);
      await elector.stop();
      if (leading) await vipDown;
      process.exit(0);
    })();
  };
  process.on("SIGTERM", end);
  process.on("SIGINT", end);
  await elector.run();
  if (!stopping) {
    await vipDown;
    log.error("lost leadership, restarting kube-vip");
    process.exit(0);
  }
}
