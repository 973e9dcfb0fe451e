import {
  type AgentFrame,
  applyIgnores,
  type ClusterSpec,
  type Logger,
  parseRke2Token,
  Rke2VersionSchema,
} from "@muster/shared";
import type { NodeSummary } from "../../store/node-summaries.ts";
import type { Store } from "../../store/store.ts";
import type { Changes } from "../changes.ts";
import { crossNodeChecks } from "../cluster/cross-node-checks.ts";
import { scrub, type Vault } from "../secrets/vault.ts";
import type { TaskDispatcher } from "../tasks/dispatcher.ts";
import type { AgentLinks } from "./links.ts";
import type { Transitions } from "./transitions/index.ts";

// Frames from an authenticated agent. A frame about a plan the node is no longer on (checksum
// mismatch) or a checks request it no longer has is stale: logged and ignored, never applied.
// Frames are looked up in the in-memory node summaries; the stored plan and facts are read only
// where a frame needs them (the init server's token capture, cross-node checks of a VIP server).

export interface FrameDeps {
  store: Pick<Store, "tx"> & {
    nodes: Pick<Store["nodes"], "summary" | "get" | "servers">;
    events: Pick<Store["events"], "append">;
  };
  vault: Pick<Vault, "token" | "store" | "agentToken">;
  transitions: Pick<Transitions, "recordChecks" | "reportPhase" | "failJoin" | "succeedJoin">;
  links: Pick<AgentLinks, "heartbeat">;
  tasks: Pick<TaskDispatcher, "result" | "progress">;
  changes: Pick<Changes, "notify">;
  log: Logger;
  now(): number;
  spec(): ClusterSpec;
  /** Records the cluster's release (cluster-spec.ts): the one the init server installed. */
  recordRelease?(version: string, why: string): void;
}

type FrameOf<T extends AgentFrame["type"]> = Extract<AgentFrame, { type: T }>;

export function createFrameHandler(deps: FrameDeps) {
  const { store, vault, transitions, log } = deps;

  /** Only an init server's plan can capture the token (plan-builder.ts). */
  function capturesToken(node: NodeSummary): boolean {
    if (!node.init) return false;
    const stored = store.nodes.get(node.name)?.plan ?? null;
    return stored !== null && (JSON.parse(stored) as { captureToken?: boolean }).captureToken === true;
  }

  function stale(node: NodeSummary, frame: AgentFrame, why: string): void {
    log.info({ node: node.name, frame: frame.type, state: node.state }, `stale frame ignored: ${why}`);
  }

  /** True when the frame is about the plan the node is joining with now. */
  function onCurrentPlan(node: NodeSummary, frame: AgentFrame & { checksum: string }): boolean {
    if (node.state === "joining" && node.planChecksum === frame.checksum) return true;
    stale(
      node,
      frame,
      node.state === "joining" ? "checksum is not the current plan's" : `node is ${node.state}`,
    );
    return false;
  }

  /** The agent's results and, for a server with a VIP, the coordinator's own (names never clash). */
  function checksResult(node: NodeSummary, frame: FrameOf<"checks.result">): void {
    if (node.state !== "checking" || node.checksRequestId !== frame.requestId) {
      stale(node, frame, "no such checks request outstanding");
      return;
    }
    const spec = deps.spec();
    const record = spec.vip && node.role === "server" ? store.nodes.get(node.name) : null;
    const own = record ? crossNodeChecks(spec.vip, record, store.nodes.servers()) : [];
    transitions.recordChecks(node.name, applyIgnores([...frame.results, ...own], spec.checks.ignore));
  }

  function phase(node: NodeSummary, frame: FrameOf<"phase">): void {
    if (!onCurrentPlan(node, frame)) return;
    const detail = frame.message ? scrub(vault, frame.message) : null;
    log.info({ node: node.name, phase: frame.phase, status: frame.status }, "phase");
    transitions.reportPhase(node.name, frame.phase, frame.status, detail);
  }

  /** Why a captured token is refused, or null to accept it. Only the init server, during its join, once. */
  function tokenRefusal(node: NodeSummary, raw: string): string | null {
    if (!node.init || !capturesToken(node)) return "this node's plan does not capture the token";
    try {
      if (parseRke2Token(raw).user === "node") return "it is an agent token, which cannot join servers";
    } catch (err) {
      return (err as Error).message;
    }
    const known = vault.token();
    if (known !== null && known !== raw)
      return "a different cluster token is already known; it is never overwritten";
    return null;
  }

  function tokenCaptured(node: NodeSummary, frame: FrameOf<"token.captured">): void {
    if (!onCurrentPlan(node, frame)) return;
    const token = frame.token.trim();
    const refusal = tokenRefusal(node, token);
    if (refusal !== null) {
      log.warn({ node: node.name }, `cluster token refused: ${refusal}`);
      store.events.append(
        "cluster.token.refused",
        node.name,
        `cluster token from ${node.name} refused: ${refusal}`,
      );
      return;
    }
    if (vault.token() === token) return; // the agent re-sent it after a reconnect
    const bare = parseRke2Token(token).caHash === null ? " (bare password: joiners cannot pin the CA)" : "";
    store.tx(() => {
      vault.store(token);
      store.events.append(
        "cluster.token.captured",
        node.name,
        `cluster token captured from init server ${node.name}${bare}`,
      );
    });
    log.info({ node: node.name }, "cluster token captured");
    deps.changes.notify();
  }

  function planDone(node: NodeSummary, frame: FrameOf<"plan.done">): void {
    if (node.state === "joined" && node.planChecksum === frame.checksum) return; // repeated after a reconnect
    if (!onCurrentPlan(node, frame)) return;
    if (!frame.ok)
      transitions.failJoin(
        node.name,
        frame.message ? scrub(vault, frame.message) : "the agent reported failure",
      );
    else if (capturesToken(node) && vault.token() === null)
      transitions.failJoin(node.name, "the init server finished without sending the cluster token");
    else {
      // Before the join counts: the next planning pass releases joiners with this release.
      freezeRelease(node, frame.rke2Version);
      transitions.succeedJoin(node.name);
    }
  }

  /**
   * A spec without rke2.version formed the cluster from a channel: the release the init server
   * installed becomes the cluster's, so a node added next month gets it, not the channel's newest.
   */
  function freezeRelease(node: NodeSummary, version: string | undefined): void {
    if (!node.init || deps.spec().rke2.version !== undefined || !version) return;
    if (!Rke2VersionSchema.safeParse(version).success) return;
    deps.recordRelease?.(
      version,
      `the release init server ${node.name} installed from channel ${deps.spec().rke2.channel}`,
    );
  }

  /** Outcome of a pre-staged install: shown, never fatal (the plan's install phase decides). */
  function prepared(node: NodeSummary, frame: FrameOf<"install.prepared">): void {
    const detail = scrub(vault, frame.message);
    const text = frame.ok
      ? `${node.name}: RKE2 staged while waiting (${detail})`
      : `${node.name}: staging RKE2 failed, the join will install it again: ${detail}`;
    store.tx(() => store.events.append("node.phase", node.name, text), "relaxed");
  }

  return function handleFrame(name: string, frame: AgentFrame): void {
    const node = store.nodes.summary(name);
    if (!node) {
      log.warn({ node: name, frame: frame.type }, "frame from an unknown node ignored");
      return;
    }
    if (frame.type === "checks.result") checksResult(node, frame);
    else if (frame.type === "phase") phase(node, frame);
    else if (frame.type === "token.captured") tokenCaptured(node, frame);
    else if (frame.type === "plan.done") planDone(node, frame);
    else if (frame.type === "heartbeat") deps.links.heartbeat(name, deps.now());
    else if (frame.type === "install.prepared") prepared(node, frame);
    else if (frame.type === "task.result") deps.tasks.result(name, frame);
    else if (frame.type === "task.progress") deps.tasks.progress(name, frame.id, frame.message);
    else log.warn({ node: name, frame: frame.type }, "frame not expected on an authenticated link ignored");
  };
}
