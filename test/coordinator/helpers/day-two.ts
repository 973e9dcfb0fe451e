import type { CoordinatorFrame, Role, Task } from "@muster/shared";
import { answerChecks, FakeLink, finish, nodeFacts, type World } from "./domain.ts";

// A small simulated cluster behind fake agent links, for day-two domain tests: each link answers
// task.run frames from one shared model of etcd members, Kubernetes Nodes, node-password secrets
// and RKE2 on each node, as the real agent's handlers would (agent/src/tasks/handlers). A test can
// hold a node's tasks (no answer: a dead agent) or make a kind fail on a node.

export interface SimMember {
  id: string;
  name: string;
  isLearner: boolean;
}

export interface SimCluster {
  members: SimMember[];
  leaderId: string | null;
  kube: Map<string, { ready: "True" | "False" | "Unknown"; unschedulable: boolean }>;
  passwords: Set<string>;
  rke2: Map<string, { running: boolean; installed: boolean; db: boolean }>;
  /** Every task answered, as "node kind[ target]". */
  log: string[];
  /** Nodes whose tasks get no answer. */
  silent: Set<string>;
  /** "node kind" whose tasks get no answer (a step in progress when the coordinator dies). */
  holdKinds: Set<string>;
  /** "node kind" -> the message the task fails with. */
  failures: Map<string, string>;
  /** Tasks held unanswered because their node is silent. */
  held: { node: string; id: string; task: Task }[];
  /**
   * kube-vip's VIP, when the spec has one: who holds it, and whether it stays put when its holder
   * stops (kube-vip#1786: a stopped rke2-server that leaves kube-vip running).
   */
  vip: { holder: string | null; stuck: boolean };
  /** The credentials rke2.config-credential set in each node's config.yaml ("node key" -> value). */
  config: Map<string, string>;
  /** Members that do not answer etcd's status (their machine just died): unhealthy in etcd.status. */
  etcdDown: Set<string>;
  /** The RKE2 release the installer left on each node, and the one its running kubelet reports. */
  installed: Map<string, string>;
  running: Map<string, string>;
}

/** The release every simulated node starts with. */
export const SIM_RELEASE = "v1.33.5+rke2r1";

/** A node's MAC in the simulation (the VIP's ARP answers). */
export const simMac = (node: string) =>
  `02:00:00:00:00:${(([...node].reduce((a, c) => a + c.charCodeAt(0), 0) % 250) + 2).toString(16).padStart(2, "0")}`;

export function newSim(): SimCluster {
  return {
    members: [],
    leaderId: null,
    kube: new Map(),
    passwords: new Set(),
    rke2: new Map(),
    log: [],
    silent: new Set(),
    holdKinds: new Set(),
    failures: new Map(),
    held: [],
    vip: { holder: null, stuck: false },
    config: new Map(),
    etcdDown: new Set(),
    installed: new Map(),
    running: new Map(),
  };
}

let memberSeq = 0x100;

function answer(sim: SimCluster, node: string, task: Task): unknown {
  const target = "node" in task ? ` ${task.node}` : "id" in task ? ` ${task.id}` : "";
  sim.log.push(`${node} ${task.kind}${target}`);
  const fail = sim.failures.get(`${node} ${task.kind}`);
  if (fail) throw new Error(fail);
  const local = sim.members.find((m) => m.name === node);
  switch (task.kind) {
    case "etcd.status":
      if (!local || sim.etcdDown.has(node)) throw new Error("etcd is not running on this node");
      return {
        members: sim.members.map((m) => ({
          id: m.id,
          name: m.name,
          peerURLs: [`https://${m.name}:2380`],
          clientURLs: [`https://${m.name}:2379`],
          isLearner: m.isLearner,
          healthy: !sim.etcdDown.has(m.name),
        })),
        leaderId: sim.leaderId,
        localId: local.id,
      };
    case "etcd.move-leader":
      sim.leaderId = task.toId;
      return {};
    case "etcd.member-remove":
      sim.members = sim.members.filter((m) => m.id !== task.id);
      return {};
    case "kube.nodes":
      return {
        nodes: [...sim.kube].map(([name, k]) => ({
          name,
          ready: k.ready,
          unschedulable: k.unschedulable,
          kubeletVersion: sim.running.get(name) ?? SIM_RELEASE,
          annotations: {},
        })),
      };
    case "kube.cordon": {
      const k = sim.kube.get(task.node);
      if (k) k.unschedulable = !task.undo;
      return {};
    }
    case "kube.drain":
      return { evicted: sim.kube.has(task.node) ? 2 : 0 };
    case "kube.annotate":
      // The member controller: the remove annotation removes the node's etcd member.
      if (task.key === "etcd.rke2.cattle.io/remove" && task.value === "true")
        sim.members = sim.members.filter((m) => m.name !== task.node);
      return {};
    case "kube.delete-node": {
      const existed = sim.kube.delete(task.node);
      sim.members = sim.members.filter((m) => m.name !== task.node);
      return { existed };
    }
    case "kube.delete-node-password":
      return { existed: sim.passwords.delete(task.node) };
    case "rke2.stop": {
      const r = sim.rke2.get(node);
      if (r) r.running = false;
      if (sim.vip.holder === node && !sim.vip.stuck) {
        // kube-vip stopped with it: a running server takes the Lease and the VIP.
        const next = [...sim.rke2].find(
          ([n, v]) => n !== node && v.running && sim.members.some((m) => m.name === n),
        );
        sim.vip.holder = next?.[0] ?? null;
      }
      if (sim.kube.has(node)) sim.kube.get(node)!.ready = "False";
      return { killed: true };
    }
    case "rke2.start": {
      const r = sim.rke2.get(node);
      if (r) r.running = true;
      // The restarted kubelet reports the release installed last.
      sim.running.set(node, sim.installed.get(node) ?? sim.running.get(node) ?? SIM_RELEASE);
      // The kubelet is back: its Node reads Ready again (it went False with the stop).
      const k = sim.kube.get(node);
      if (k && k.ready === "False") k.ready = "True";
      return {};
    }
    case "rke2.config-credential": {
      const key = `${node} ${task.key}`;
      const changed = sim.config.get(key) !== task.value;
      sim.config.set(key, task.value);
      return { changed };
    }
    case "rke2.uninstall": {
      const r = sim.rke2.get(node);
      const wasInstalled = r?.installed ?? false;
      sim.rke2.set(node, { running: false, installed: false, db: false });
      return { wasInstalled };
    }
    case "rke2.wipe-db": {
      const r = sim.rke2.get(node);
      const existed = r?.db ?? false;
      if (r) r.db = false;
      return { existed };
    }
    case "vip.observe":
      return {
        macs: sim.vip.holder ? [simMac(sim.vip.holder)] : [],
        local: sim.vip.holder === node,
        localMac: simMac(node),
      };
    case "vip.release":
      return { removed: false };
    case "rke2.install": {
      const version = task.install.version ?? SIM_RELEASE;
      sim.installed.set(node, version);
      return { version };
    }
    case "rke2.snapshot-save":
      return {
        snapshot: {
          name: `${task.name ?? "on-demand"}-${node}-1`,
          location: `file:///var/lib/rancher/rke2/server/db/snapshots/${task.name ?? "on-demand"}-${node}-1`,
          size: 1024,
          createdAt: new Date(0).toISOString(),
        },
      };
    default:
      throw new Error(`the simulation has no ${task.kind}`);
  }
}

/** Answers every held task now (what the node does once it is let go), and stops holding. */
export function answerHeld(w: World, sim: SimCluster): void {
  sim.holdKinds.clear();
  for (const { node, id, task } of sim.held.splice(0)) {
    try {
      w.coord.handleFrame(node, { type: "task.result", id, ok: true, result: answer(sim, node, task) });
    } catch (err) {
      w.coord.handleFrame(node, { type: "task.result", id, ok: false, message: (err as Error).message });
    }
  }
}

/** A fake agent link whose tasks the simulation answers (asynchronously, like a real agent). */
export class SimLink extends FakeLink {
  readonly sim: SimCluster;
  readonly w: World;
  readonly node: string;
  constructor(w: World, sim: SimCluster, node: string) {
    super();
    this.w = w;
    this.sim = sim;
    this.node = node;
  }
  override send(frame: CoordinatorFrame): void {
    super.send(frame);
    if (frame.type !== "task.run") return;
    if (this.sim.silent.has(this.node) || this.sim.holdKinds.has(`${this.node} ${frame.task.kind}`)) {
      this.sim.held.push({ node: this.node, id: frame.id, task: frame.task });
      return;
    }
    setImmediate(() => {
      let result: unknown;
      try {
        result = answer(this.sim, this.node, frame.task);
      } catch (err) {
        this.w.coord.handleFrame(this.node, {
          type: "task.result",
          id: frame.id,
          ok: false,
          message: (err as Error).message,
        });
        return;
      }
      this.w.coord.handleFrame(this.node, { type: "task.result", id: frame.id, ok: true, result });
    });
  }
}

let machine = 500;

/** Enrols `name` with a simulated link, passes its checks, joins it and adds it to the model. */
export async function joinSim(
  w: World,
  sim: SimCluster,
  name: string,
  role: Role,
  machineId?: string,
): Promise<SimLink> {
  const { token } = w.coord.createJoinToken({ role });
  machine += 1;
  const facts = nodeFacts(name, machine % 200);
  const { node } = w.coord.enrol(
    {
      type: "enrol",
      joinToken: token,
      facts: { ...facts, machineId: machineId ?? machine.toString(16).padStart(32, "0") },
      agentVersion: "0.1.0",
    },
    "10.9.9.9",
  );
  const link = new SimLink(w, sim, node);
  w.links.set(node, link);
  w.coord.attach(node, link, null);
  w.coord.tick();
  answerChecks(w, node);
  await w.coord.settle(); // probes the registration address, then plans: the plan is released
  // With a VIP, the plan waits until the VIP watch (on real timers) saw exactly one holder.
  const deadline = Date.now() + (w.coord.getNode(node).state === "waiting" ? 15_000 : 0);
  for (;;) {
    try {
      finish(w, node);
      break;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 50));
      w.coord.tick();
      await w.coord.settle();
    }
  }
  if (w.coord.getNode(node).state !== "joined") throw new Error(`${node} did not join`);
  sim.kube.set(node, { ready: "True", unschedulable: false });
  sim.passwords.add(node);
  sim.rke2.set(node, { running: true, installed: true, db: role === "server" });
  if (role === "server") {
    memberSeq += 1;
    sim.members.push({ id: memberSeq.toString(16), name: node, isLearner: false });
    sim.leaderId ??= memberSeq.toString(16);
  }
  return link;
}

/** A cluster of servers (the first initialises it) and agents, all joined. */
export async function formSim(w: World, servers: string[], agents: string[] = []): Promise<SimCluster> {
  const sim = newSim();
  for (const s of servers) await joinSim(w, sim, s, "server");
  for (const a of agents) await joinSim(w, sim, a, "agent");
  return sim;
}

/** The node's agent goes away (a crash or a cut link): the link closes, later tasks go unanswered. */
export function killAgent(w: World, sim: SimCluster, node: string): void {
  sim.silent.add(node);
  const link = w.links.get(node);
  if (link) w.coord.detach(node, link);
}

/** Reconnects `node` on a fresh simulated link (its agent came back). */
export function reconnect(w: World, sim: SimCluster, node: string): SimLink {
  sim.silent.delete(node);
  const link = new SimLink(w, sim, node);
  w.links.set(node, link);
  w.coord.attach(node, link, null);
  return link;
}

/** Polls `cond` (every event-loop turn) until it holds or `ms` pass. */
export async function until(cond: () => boolean, ms = 5000, what = "condition"): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}
