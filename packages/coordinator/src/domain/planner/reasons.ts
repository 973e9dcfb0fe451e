import type { PlanStep, Role } from "@muster/shared";

// The words /v1/plan shows for each node. Kept apart from the planner's rules so the rules read as
// rules; every reason says what the node waits for and, when an operator must act, what to run.
export type Step = Pick<PlanStep, "status" | "reason">;

/** Reasons that start with this wait on the registration address (the monitor polls faster then). */
export const REGISTRATION_WAIT = "waiting for the registration address";
/** Reasons that start with this wait on peers seeing exactly one machine answer ARP for the VIP. */
export const VIP_ARP_WAIT = "waiting for exactly one machine to answer ARP for the VIP";

const waiting = (reason: string): Step => ({ status: "waiting", reason });
const blocked = (reason: string): Step => ({ status: "blocked", reason });

export const reasons = {
  waitingForConnect: () => waiting("waiting for the node to connect"),
  waitingForReconnect: () => waiting("waiting for the node to reconnect"),
  waitingForChecks: () => waiting("waiting for checks"),
  checkFailed: (node: string, names: readonly string[]) =>
    blocked(
      `check-failed: ${names.join(", ") || "(unknown)"}; fix them and run \`muster retry ${node}\`, or add them to spec checks.ignore`,
    ),
  joinFailed: (node: string, role: Role, message: string | null) =>
    blocked(
      `${role === "server" ? "blocked: " : ""}${role} ${node} failed to join: ${message ?? "no reason given"}; run \`muster retry ${node}\` or remove it`,
    ),
  initCheckFailed: (init: string, names: readonly string[]) =>
    blocked(
      `blocked: init server ${init} failed its checks (${names.join(", ") || "unknown"}); fix them and run \`muster retry ${init}\``,
    ),
  waitingForFirstServer: () => waiting("waiting for a server to initialise the cluster"),
  waitingForInit: (init: string) => waiting(`waiting for init server ${init} to finish joining`),
  waitingForInitChecks: (init: string) =>
    waiting(`waiting for init server ${init} to pass its checks and join`),
  waitingForToken: (init: string) => waiting(`waiting for the cluster token from init server ${init}`),
  waitingForRegistration: (address: string | null, isVip = false) =>
    waiting(
      address === null
        ? `${REGISTRATION_WAIT} to be known`
        : `${REGISTRATION_WAIT} ${address}${isVip ? " (the VIP, run by kube-vip)" : ""} to answer on 9345 and 6443`,
    ),
  waitingForVipArp: (detail: string) => waiting(`${VIP_ARP_WAIT}: ${detail}`),
  waitingForServerJoin: (holder: string) =>
    waiting(`waiting for server ${holder} to finish joining (etcd allows one learner at a time)`),
  waitingForOperation: (type: string, id: string, node: string | null) =>
    waiting(
      `waiting for operation ${id} (${type}${node ? ` of ${node}` : ""}) to finish: it holds the control-plane lease, one change at a time`,
    ),
  waitingForAgentSlot: (joining: number, concurrency: number) =>
    waiting(`waiting for a free agent slot (${joining} of ${concurrency} joining)`),
  released: (init: boolean): Step => ({
    status: "running",
    reason: init ? "plan released: initialising the cluster" : "plan released: joining",
  }),
  joining: (init: boolean, phase: string | null, since: number | null): Step => ({
    status: "running",
    reason:
      `${init ? "initialising the cluster" : "joining"}` +
      `${phase ? ` (phase ${phase})` : ""}${since === null ? "" : ` since ${new Date(since).toISOString()}`}`,
  }),
};
