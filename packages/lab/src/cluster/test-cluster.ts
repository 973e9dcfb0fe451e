// An end-to-end test cluster: a world (nodes as namespaces), a local mirror of the RKE2 installer and
// the simulator's air-gap artifacts, the real coordinator, and nodes enrolled by running the real
// curl-bash one-liner inside their namespace. Production code runs unchanged inside.
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { DatabaseSync } from "node:sqlite";
import { writeSystemctlWrapper } from "@muster/rke2-sim";
import type { ClusterView, JoinTokenCreated, MusterEvent, NodeView, PlanView } from "@muster/shared";
import { stringify } from "yaml";
import { powerOff, setHubLink, untilOperUp } from "../lab/power.ts";
import type { ApiClient } from "../world/api-client.ts";
import { REPO_ROOT } from "../world/mounts.ts";
import { firstLine } from "../world/testing.ts";
import { type UpOptions, up, type World, type WorldNode } from "../world/world.ts";
import { CoordinatorProcess, STATE_DIR } from "./coordinator-process.ts";
import { joinWindows, type MembershipSample, parseSamples } from "./membership.ts";
import { type LabS3, S3_NAME, s3BackupSpec, startS3Server } from "./s3.ts";
import {
  FAST,
  MIRROR_DIR,
  MIRROR_PORT,
  prepareMirror,
  type SimDurations,
  worldSpec,
  writeSimDefaults,
} from "./setup.ts";
import { placeKubeVipImage, vipSpec } from "./vip.ts";

export const REPO = REPO_ROOT;
export { FAST, type SimDurations } from "./setup.ts";

export interface ClusterOptions {
  servers: number;
  agents: number;
  durations?: SimDurations;
  /** Extra spec fields merged over the e2e defaults. */
  spec?: Record<string, unknown>;
  /** Subnet index for the world (default: first free). */
  subnetIndex?: number;
  /** Start the coordinator (default true). false: a world with the mirror only (negative controls). */
  coordinator?: boolean;
  /** A VIP run by kube-vip on eth0 (the world's free .100), its image served by the coordinator. */
  vip?: boolean;
  /** World nodes not enrolled at first, e.g. an agent added after a failover: `extra-agent-1`... */
  spareAgents?: number;
  /** World nodes not enrolled at first, e.g. a replacement server: `server-<servers+1>`... */
  spareServers?: number;
  /**
   * Test world only: form the cluster as a coordinator from before the agent token did (servers
   * without agent-token, agents with the server token), the "legacy" cluster the agent-token
   * migration moves over (legacy-agent-token-main.ts records that mode before the first start).
   */
  legacyAgentToken?: boolean;
  /** An S3-protocol server in its own machine (`s3`), set as spec.backup.s3 (s3.ts). */
  s3?: boolean;
}

export class TestCluster {
  readonly world: World;
  readonly servers: WorldNode[];
  readonly agents: WorldNode[];
  readonly coordinator: CoordinatorProcess;
  readonly durations: SimDurations;
  /** The mirror serving install.sh and (under /rke2) the air-gap artifacts, in the coordinator machine. */
  readonly mirrorUrl: string;
  /** The lab's S3 server when started with `s3: true`. */
  readonly s3: LabS3 | null;
  #watch: ReturnType<WorldNode["spawn"]> | null = null;
  /** Holds the systemctl wrapper bound into the nodes; outside the checkout so runs leave it clean. */
  readonly #wrapperDir: string;
  #watchOut = "";

  private constructor(
    world: World,
    opts: ClusterOptions,
    coordinator: CoordinatorProcess,
    wrapperDir: string,
    s3: LabS3 | null,
  ) {
    this.world = world;
    this.s3 = s3;
    this.#wrapperDir = wrapperDir;
    this.servers = world.nodes.filter((n) => n.name.startsWith("server"));
    this.agents = world.nodes.filter((n) => n.name.startsWith("agent"));
    this.coordinator = coordinator;
    this.durations = opts.durations ?? FAST;
    this.mirrorUrl = `http://${world.coordinator.ip}:${MIRROR_PORT}`;
  }

  static async start(opts: ClusterOptions): Promise<TestCluster> {
    const names = [
      ...Array.from({ length: opts.servers + (opts.spareServers ?? 0) }, (_, i) => `server-${i + 1}`),
      ...Array.from({ length: opts.agents + (opts.spareAgents ?? 0) }, (_, i) => `agent-${i + 1}`),
    ];
    const wrapperDir = await mkdtemp(path.join(tmpdir(), "muster-e2e-systemctl-"));
    const systemctl = await writeSystemctlWrapper(path.join(wrapperDir, "systemctl"));
    if (opts.s3) names.push(S3_NAME);
    const upOpts: UpOptions = { nodes: names.map((name) => ({ name })), systemctl };
    if (opts.subnetIndex !== undefined) upOpts.subnetIndex = opts.subnetIndex;
    const world = await up(upOpts).catch(async (err) => {
      await rm(wrapperDir, { recursive: true, force: true });
      throw err;
    });
    try {
      const c = world.coordinator;
      const mirrorUrl = `http://${c.ip}:${MIRROR_PORT}`;
      await prepareMirror(c);
      const mirror = c.spawn(
        process.execPath,
        ["packages/lab/src/world/mirror-main.ts", MIRROR_DIR, "--listen", `${c.ip}:${MIRROR_PORT}`],
        { cwd: REPO, buffer: false, stderr: "ignore" },
      );
      await firstLine(mirror);
      const s3 = opts.s3 ? await startS3Server(world.node(S3_NAME)) : null;
      const spec = worldSpec("e2e", mirrorUrl, {
        ...(opts.vip ? vipSpec(world) : {}),
        ...(s3 ? { backup: s3BackupSpec(s3) } : {}),
        ...opts.spec,
      });
      if (opts.vip) await placeKubeVipImage(c, STATE_DIR);
      await mkdir(c.path("/etc/muster"), { recursive: true });
      await writeFile(c.path("/etc/muster/cluster.yaml"), stringify(spec), { mode: 0o600 });
      const durations = opts.durations ?? FAST;
      for (const n of world.nodes) await writeSimDefaults(n, durations);
      const coordinator = new CoordinatorProcess(c);
      if (opts.legacyAgentToken)
        await c.exec(process.execPath, ["packages/lab/src/cluster/legacy-agent-token-main.ts", STATE_DIR], {
          cwd: REPO,
        });
      if (opts.coordinator !== false) await coordinator.start();
      return new TestCluster(world, opts, coordinator, wrapperDir, s3);
    } catch (err) {
      await world.down();
      await rm(wrapperDir, { recursive: true, force: true });
      throw err;
    }
  }

  get api(): ApiClient {
    return this.coordinator.api;
  }

  async joinCommand(role: "server" | "agent", ttlSeconds?: number): Promise<JoinTokenCreated> {
    return this.api.post<JoinTokenCreated>("/v1/join-tokens", {
      role,
      ...(ttlSeconds ? { ttlSeconds } : {}),
    });
  }

  /**
   * Runs the exact one-liner the coordinator handed out, inside the node. `onLine` gets each line of
   * its stdout and stderr as it is printed (the bootstrap's progress, long before the agent enrols);
   * the result still holds the whole output.
   */
  bootstrap(node: WorldNode, command: string, extraArgs = "", onLine?: (line: string) => void) {
    const child = node.sh(`${command}${extraArgs ? ` ${extraArgs}` : ""}`, { reject: false, all: true });
    if (onLine && child.all)
      createInterface({ input: child.all, crlfDelay: Number.POSITIVE_INFINITY }).on("line", onLine);
    return child;
  }

  async cluster(): Promise<ClusterView> {
    return this.api.get<ClusterView>("/v1/cluster");
  }

  async nodes(): Promise<NodeView[]> {
    return (await this.api.get<{ nodes: NodeView[] }>("/v1/nodes")).nodes;
  }

  async plan(): Promise<PlanView["steps"]> {
    return (await this.api.get<PlanView>("/v1/plan")).steps;
  }

  async revokeJoinToken(id: string): Promise<void> {
    const r = await this.api.request("DELETE", `/v1/join-tokens/${encodeURIComponent(id)}`);
    if (r.status >= 400)
      throw new Error(`DELETE /v1/join-tokens/${id}: ${r.status} ${JSON.stringify(r.body)}`);
  }

  /**
   * Moves a join token's expiry into the past in the coordinator's database (join tokens live at
   * least 60 s; a test should not sleep that long). The coordinator reads tokens from the database
   * on every check, so its own expiry rule then judges the token.
   */
  expireJoinToken(id: string): void {
    const db = new DatabaseSync(this.world.coordinator.path(`${STATE_DIR}/muster.db`));
    try {
      db.exec("PRAGMA busy_timeout = 5000");
      const r = db.prepare("UPDATE join_tokens SET expires_at = ? WHERE id = ?").run(Date.now() - 1000, id);
      if (r.changes !== 1) throw new Error(`join token ${id} not found in the coordinator's database`);
    } finally {
      db.close();
    }
  }

  /** Power loss, as `lab kill` does it: every process of the node SIGKILLed, its link down. */
  async kill(node: WorldNode): Promise<number[]> {
    return powerOff(node, this.world.hubNetns, this.#port(node));
  }

  /** The machine's link back up (its disk kept, nothing running: a machine switched on again). */
  async powerOn(node: WorldNode): Promise<void> {
    await setHubLink(this.world.hubNetns, this.#port(node), "up");
    await untilOperUp(node.netns, "eth0");
  }

  #port(node: WorldNode): number {
    const i = this.world.nodes.indexOf(node);
    if (i < 0) throw new Error(`${node.name} is not a node of this world`);
    return i + 1;
  }

  /** Names of the Kubernetes nodes the simulator's apiserver on `via` lists. */
  async kubernetesNodes(via: WorldNode): Promise<string[]> {
    const r = await via.exec("curl", ["-fsSk", `https://${via.ip}:6443/api/v1/nodes`]);
    return (JSON.parse(r.stdout) as { items: { metadata: { name: string } }[] }).items
      .map((i) => i.metadata.name)
      .sort();
  }

  /** The journal the systemctl stand-in keeps for a unit in a node. */
  async journal(node: WorldNode, unit: string): Promise<string> {
    return readFile(node.path(`/run/systemctl-sim/journal/${unit}.service.log`), "utf8").catch(() => "");
  }

  async events(after = 0): Promise<MusterEvent[]> {
    const out: MusterEvent[] = [];
    let cursor = after;
    for (;;) {
      const page = await this.api.get<{ events: MusterEvent[]; next: number }>(
        `/v1/events?after=${cursor}&limit=1000`,
      );
      out.push(...page.events);
      if (page.events.length < 1000) return out;
      cursor = page.next;
    }
  }

  /** Polls until `check` returns a value (not undefined), or fails after `timeoutMs` with `what`. */
  async waitFor<T>(
    what: string,
    check: () => Promise<T | undefined>,
    timeoutMs = 180_000,
    everyMs = 500,
  ): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let lastErr: unknown;
    while (Date.now() < deadline) {
      try {
        const v = await check();
        if (v !== undefined) return v;
      } catch (err) {
        lastErr = err;
      }
      await new Promise((r) => setTimeout(r, everyMs));
    }
    const nodes = await this.nodes().catch(() => []);
    const summary = nodes.map((n) => `${n.name}=${n.state}${n.message ? ` (${n.message})` : ""}`).join(", ");
    throw new Error(
      `timed out waiting for ${what}; nodes: ${summary}${lastErr ? `; last error: ${lastErr}` : ""}`,
    );
  }

  async waitForNodes(names: string[], state: NodeView["state"], timeoutMs?: number): Promise<NodeView[]> {
    return this.waitFor(
      `${names.join(", ")} to be ${state}`,
      async () => {
        const nodes = await this.nodes();
        const wanted = nodes.filter((n) => names.includes(n.name));
        return wanted.length === names.length && wanted.every((n) => n.state === state) ? nodes : undefined;
      },
      timeoutMs,
    );
  }

  /** Starts recording etcd's own membership history (sampled from every server's client URL). */
  async watchMembership(): Promise<void> {
    const endpoints = this.servers.map((s) => `http://${s.ip}:2379`).join(",");
    const child = this.world.coordinator.spawn(
      process.execPath,
      ["packages/lab/src/cluster/etcd-watch-main.ts", endpoints, "200"],
      {
        cwd: REPO,
        buffer: false,
      },
    );
    child.stdout?.on("data", (chunk: Buffer) => {
      this.#watchOut += chunk.toString();
    });
    this.#watch = child;
  }

  membership(): MembershipSample[] {
    return parseSamples(this.#watchOut);
  }

  etcdJoinWindows() {
    return joinWindows(this.membership());
  }

  /** The last membership etcd reported. */
  etcdMembers(): { name: string; isLearner: boolean }[] {
    const samples = this.membership();
    return (samples.at(-1)?.members ?? []).map((m) => ({ name: m.name, isLearner: m.isLearner }));
  }

  /**
   * What to read after a failure: the coordinator's log and every node's muster-agent and rke2
   * journals, written under `dir`. Returns the files written.
   */
  async saveDiagnostics(dir: string): Promise<string[]> {
    await mkdir(dir, { recursive: true });
    const files: [string, string][] = [["coordinator.log", this.coordinator.log]];
    for (const node of this.world.nodes)
      for (const unit of ["muster-agent", "rke2-server", "rke2-agent"]) {
        const text = await this.journal(node, unit);
        if (text) files.push([`${node.name}.${unit}.log`, text]);
      }
    const nodes = await this.nodes().catch((err: Error) => `unavailable: ${err.message}`);
    files.push(["nodes.json", JSON.stringify(nodes, null, 2)]);
    const out: string[] = [];
    for (const [name, text] of files) {
      const file = path.join(dir, name);
      await writeFile(file, text);
      out.push(file);
    }
    return out;
  }

  async down(): Promise<void> {
    this.#watch?.kill("SIGTERM");
    await this.coordinator.stop().catch(() => {});
    await this.world.down();
    await rm(this.#wrapperDir, { recursive: true, force: true });
  }
}

export async function readText(file: string): Promise<string> {
  return readFile(file, "utf8");
}
