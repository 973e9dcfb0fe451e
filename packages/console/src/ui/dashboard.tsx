import type { NodeView } from "@muster/shared";
import { useCallback, useMemo, useState } from "preact/hooks";
import { createApi } from "../model/api.ts";
import type { NodeAction } from "../model/node-actions.ts";
import { AddNodeDialog } from "./add-node.tsx";
import { ClusterSummary } from "./cluster-summary.tsx";
import { ConfirmDialog } from "./confirm-dialog.tsx";
import { EventList } from "./event-list.tsx";
import { JoinTimeline } from "./join-timeline.tsx";
import { NodeTable } from "./node-table.tsx";
import { UpgradeDialog } from "./upgrade-dialog.tsx";
import { useConsoleData } from "./use-console-data.ts";
import { WhatIfPanel } from "./whatif-panel.tsx";

type Dialog =
  | { kind: "add-node" }
  | { kind: "upgrade" }
  | { kind: "action"; node: NodeView; action: NodeAction }
  | null;

export function Dashboard(props: { token: string; onSignOut(why: string | null): void }) {
  const { token, onSignOut } = props;
  const api = useMemo(() => createApi(token), [token]);
  const unauthorized = useCallback(
    () =>
      onSignOut(
        "The coordinator no longer accepts this admin token (it may have been replaced). Sign in again.",
      ),
    [onSignOut],
  );
  const { data, refresh } = useConsoleData(api, unauthorized);
  const [dialog, setDialog] = useState<Dialog>(null);
  const close = () => setDialog(null);

  return (
    <div class="layout">
      <header class="topbar">
        <h1>
          muster
          {data.cluster && <span class="cluster-name"> · {data.cluster.name}</span>}
        </h1>
        <nav aria-label="Actions">
          <button type="button" class="primary" onClick={() => setDialog({ kind: "add-node" })}>
            Add node
          </button>
          <button type="button" onClick={() => setDialog({ kind: "upgrade" })}>
            Upgrade RKE2
          </button>
          <button type="button" onClick={() => onSignOut("Signed out.")}>
            Sign out
          </button>
        </nav>
      </header>
      {data.trouble && (
        <div class="error-banner" role="alert">
          {data.trouble}
        </div>
      )}
      <main class="grid">
        <div class="col-main">
          <ClusterSummary cluster={data.cluster} />
          <NodeTable
            nodes={data.nodes}
            steps={data.steps}
            loaded={data.cluster !== null}
            whatif={data.whatif}
            onAction={(node, action) => setDialog({ kind: "action", node, action })}
          />
          <JoinTimeline joinEvents={data.joinEvents} nodes={data.nodes} />
        </div>
        <div class="col-side">
          {data.whatif && <WhatIfPanel whatif={data.whatif} />}
          <EventList events={data.events} />
        </div>
      </main>
      {dialog?.kind === "add-node" && (
        <AddNodeDialog api={api} onClose={close} onUnauthorized={unauthorized} />
      )}
      {dialog?.kind === "upgrade" && (
        <UpgradeDialog
          api={api}
          nodes={data.nodes}
          whatif={data.whatif}
          onUnauthorized={unauthorized}
          onDone={() => {
            close();
            refresh();
          }}
          onClose={close}
        />
      )}
      {dialog?.kind === "action" && (
        <ConfirmDialog
          title={dialog.action.title}
          description={dialog.action.description}
          confirmLabel={dialog.action.confirmLabel}
          danger={dialog.action.danger}
          run={() => api.send(dialog.action.request.method, dialog.action.request.path)}
          onUnauthorized={unauthorized}
          onDone={() => {
            close();
            refresh();
          }}
          onClose={close}
        />
      )}
    </div>
  );
}
