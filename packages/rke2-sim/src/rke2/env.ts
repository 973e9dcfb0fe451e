// Simulator knobs, read from the environment (tests put them in /etc/default/rke2-server, which the
// unit's EnvironmentFile= loads). Documented in test/sim/README.md.

function num(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number, got "${raw}"`);
  return n;
}

export function knobs() {
  return {
    /** Extra start-up time of the first server before it is ready (real: about a minute). */
    initSeconds: num("RKE2_SIM_INIT_SECONDS", 2),
    /** Extra time a joining server spends (image import, runtime start) before its etcd join. */
    joinSeconds: num("RKE2_SIM_JOIN_SECONDS", 2),
    /** Extra time an agent spends before registering. */
    agentSeconds: num("RKE2_SIM_AGENT_SECONDS", 1),
    /** How often the etcd leader tries to promote learners (real: 15 s). */
    promoteIntervalSeconds: num("RKE2_SIM_PROMOTE_INTERVAL", 15),
    /** A learner without progress for this long is removed (real: 5 minutes). */
    learnerStallSeconds: num("RKE2_SIM_LEARNER_STALL_SECONDS", 300),
    /** Node status heartbeat; a node silent for 40 s shows Ready=Unknown, as with the real node controller. */
    heartbeatSeconds: num("RKE2_SIM_HEARTBEAT_SECONDS", 10),
    // RKE2 runs etcd with 500/5000 ms; half that makes a fresh member elect itself sooner in tests.
    etcdHeartbeatMs: num("RKE2_SIM_ETCD_HEARTBEAT_MS", 250),
    etcdElectionMs: num("RKE2_SIM_ETCD_ELECTION_MS", 2500),
    /** Base of the kubelet's container restart and image pull back-off (real: 10 s, doubling to 5 min). */
    podBackoffSeconds: num("RKE2_SIM_POD_BACKOFF_SECONDS", 10),
    /** Lease of the leader-elected controllers (controller-manager, etcd member controller); real: 15 s. */
    controllerLeaseSeconds: num("RKE2_SIM_CONTROLLER_LEASE_SECONDS", 15),
    etcdBin: process.env["RKE2_SIM_ETCD_BIN"] || "etcd",
    etcdctlBin: process.env["RKE2_SIM_ETCDCTL_BIN"] || "etcdctl",
    version: process.env["RKE2_SIM_VERSION"] || "v1.33.5+rke2r1",
    commit: process.env["RKE2_SIM_COMMIT"] || "0000000000000000000000000000000000000000",
  };
}

export type Knobs = ReturnType<typeof knobs>;

/**
 * Waits until `seconds` have passed since this process started. The duration knobs are totals from
 * service start to ready (what an operator would time), so the simulator's own work (etcd start,
 * learner sync, promotion) happens inside them rather than on top, whenever it fits.
 */
export function untilUptime(seconds: number): Promise<void> {
  const ms = seconds * 1000 - process.uptime() * 1000;
  return new Promise((r) => setTimeout(r, Math.max(0, ms)));
}
