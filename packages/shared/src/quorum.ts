// etcd quorum arithmetic (docs/rke2-behaviour.md "Quorum").
export function quorum(servers: number): number {
  if (servers <= 0) return 0;
  return Math.floor(servers / 2) + 1;
}

export function faultTolerance(servers: number): number {
  if (servers <= 0) return 0;
  return servers - quorum(servers);
}

/** A warning for server counts that add risk without adding tolerance, or null. */
export function quorumWarning(servers: number): string | null {
  if (servers === 1) return "1 server: no fault tolerance; add 2 more servers for HA";
  if (servers > 1 && servers % 2 === 0)
    return `${servers} servers tolerate only ${faultTolerance(servers)} failure(s), the same as ${servers - 1}; use an odd number of servers`;
  return null;
}
