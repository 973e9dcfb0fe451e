import {
  type ClusterSpec,
  type ClusterView,
  type EventsPage,
  NodeNotFound,
  type NodeView,
  type WhatIfView,
  whatIf,
} from "@muster/shared";
import type { Store } from "../../store/store.ts";
import { registrationAddress } from "../planner/planner.ts";
import type { RegistrationMonitor } from "../registration/monitor.ts";
import { clusterView, eventsPage, nodeView, votersOf } from "./views.ts";

// The read side of the REST API: the cluster, its nodes and its events, as views.ts shows them.

export interface QueryDeps {
  store: {
    nodes: Pick<Store["nodes"], "summaries" | "listings" | "get" | "initNode">;
    lease: Pick<Store["lease"], "get"> & Partial<Pick<Store["lease"], "current">>;
    events: Pick<Store["events"], "after">;
    /** The operation holding the lease gives the phase `restoring` or `upgrading`. */
    operations?: Pick<Store["operations"], "get">;
    claims?: Pick<Store["claims"], "get" | "list">;
  };
  monitor: Pick<RegistrationMonitor, "health">;
  spec(): ClusterSpec;
  /** Warnings of the last orphan audit (etcd members with no node behind them), and their count. */
  audit?(): { orphans: number; warnings: string[] };
  /** True while agents still receive the server token (secrets/agent-token.ts). */
  agentTokenLegacy?: () => boolean;
}

export function createQueries(deps: QueryDeps) {
  const { store } = deps;
  const leaseOperation = (): string | null => {
    const lease = store.lease.current?.();
    return lease?.kind === "operation" ? (store.operations?.get(lease.operationId)?.type ?? null) : null;
  };
  return {
    cluster(): ClusterView {
      const spec = deps.spec();
      return clusterView({
        spec,
        nodes: store.nodes.summaries(),
        lease: store.lease.get(),
        registration: deps.monitor.health(registrationAddress(spec, store.nodes.initNode())),
        agentTokenLegacy: deps.agentTokenLegacy?.() ?? false,
        claims: store.claims?.list() ?? [],
        operation: leaseOperation(),
      });
    },
    nodes(): NodeView[] {
      const claims = new Map((store.claims?.list() ?? []).map((c) => [c.node, c]));
      return store.nodes.listings().map((n) => nodeView(n, claims.get(n.name) ?? null));
    },
    node(name: string): NodeView {
      const node = store.nodes.get(name);
      if (!node) throw new NodeNotFound(name);
      return nodeView(node, store.claims?.get(name) ?? null);
    },
    events: (after: number, limit: number): EventsPage => eventsPage(store.events, after, limit),
    /** GET /v1/whatif: what losing each server now would mean, with the audit's findings. */
    whatIf(): WhatIfView {
      const audit = deps.audit?.() ?? { orphans: 0, warnings: [] };
      const view = whatIf(votersOf(store.nodes.summaries()), audit.orphans);
      return { servers: view.servers, warnings: [...view.warnings, ...audit.warnings] };
    },
  };
}
