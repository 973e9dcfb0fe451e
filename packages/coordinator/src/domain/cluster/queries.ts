import {
  type ClusterSpec,
  type ClusterView,
  type EventsPage,
  NodeNotFound,
  type NodeView,
} from "@muster/shared";
import type { Store } from "../../store/store.ts";
import { registrationAddress } from "../planner/planner.ts";
import type { RegistrationMonitor } from "../registration/monitor.ts";
import { clusterView, eventsPage, nodeView } from "./views.ts";

// The read side of the REST API: the cluster, its nodes and its events, as views.ts shows them.

export interface QueryDeps {
  store: {
    nodes: Pick<Store["nodes"], "summaries" | "listings" | "get" | "initNode">;
    lease: Pick<Store["lease"], "get">;
    events: Pick<Store["events"], "after">;
  };
  monitor: Pick<RegistrationMonitor, "health">;
  spec(): ClusterSpec;
  /** True while agents still receive the server token (secrets/agent-token.ts). */
  agentTokenLegacy?: () => boolean;
}

export function createQueries(deps: QueryDeps) {
  const { store } = deps;
  return {
    cluster(): ClusterView {
      const spec = deps.spec();
      return clusterView({
        spec,
        nodes: store.nodes.summaries(),
        lease: store.lease.get(),
        registration: deps.monitor.health(registrationAddress(spec, store.nodes.initNode())),
        agentTokenLegacy: deps.agentTokenLegacy?.() ?? false,
      });
    },
    nodes: (): NodeView[] => store.nodes.listings().map(nodeView),
    node(name: string): NodeView {
      const node = store.nodes.get(name);
      if (!node) throw new NodeNotFound(name);
      return nodeView(node);
    },
    events: (after: number, limit: number): EventsPage => eventsPage(store.events, after, limit),
  };
}
