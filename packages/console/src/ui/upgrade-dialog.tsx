import type { NodeView } from "@muster/shared";
import { useState } from "preact/hooks";
import { type Api, ApiError, isUnauthorized } from "../model/api.ts";
import { upgradePlan, upgradeVerdict, versionProblem } from "../model/upgrade.ts";
import type { WhatIfView } from "../model/whatif.ts";
import { Dialog } from "./dialog.tsx";
import { ServerVerdict } from "./server-verdict.tsx";

// "Upgrade RKE2": the version and drain choice, then the plan and the quorum guard's verdict before
// POST /v1/upgrades; a refusal (a downgrade, a skipped minor, an operation in flight) shown as sent.
export function UpgradeDialog(props: {
  api: Api;
  nodes: NodeView[];
  whatif: WhatIfView | null | undefined;
  onDone(operationId: string): void;
  onClose(): void;
  onUnauthorized(): void;
}) {
  const [version, setVersion] = useState("");
  const [drain, setDrain] = useState(false);
  const [touched, setTouched] = useState(false);
  const [busy, setBusy] = useState(false);
  const [refusal, setRefusal] = useState<ApiError | null>(null);
  const problem = versionProblem(version);

  async function confirm(e: Event) {
    e.preventDefault();
    setTouched(true);
    if (problem) return;
    setBusy(true);
    setRefusal(null);
    try {
      const r = await props.api.send<{ operation: { id: string } }>("POST", "/v1/upgrades", {
        version: version.trim(),
        drain,
      });
      props.onDone(r.operation.id);
    } catch (err) {
      setBusy(false);
      if (isUnauthorized(err)) return props.onUnauthorized();
      setRefusal(err instanceof ApiError ? err : new ApiError(0, "ERROR", (err as Error).message));
    }
  }

  return (
    <Dialog id="upgrade" title="Upgrade RKE2" onClose={props.onClose}>
      <form onSubmit={confirm}>
        <label for="upgrade-version">RKE2 version</label>
        <input
          id="upgrade-version"
          placeholder="v1.32.4+rke2r1"
          value={version}
          onInput={(e) => setVersion((e.target as HTMLInputElement).value)}
          autoComplete="off"
          spellcheck={false}
        />
        <label class="choice">
          <input
            type="checkbox"
            checked={drain}
            onChange={(e) => setDrain((e.target as HTMLInputElement).checked)}
          />{" "}
          Drain each node before its upgrade
        </label>
        {touched && problem && (
          <p class="tone-text-bad small" role="alert">
            {problem}
          </p>
        )}
        <h3 class="small">Plan</h3>
        <ol class="small" data-testid="upgrade-plan">
          {upgradePlan(props.nodes, version.trim() || "the new version", drain).map((s) => (
            <li key={s}>{s}</li>
          ))}
        </ol>
        <p data-testid="upgrade-verdict">{upgradeVerdict(props.whatif)}</p>
        {refusal && <ServerVerdict error={refusal} />}
        <div class="dialog-actions">
          <button type="button" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" class="danger" disabled={busy}>
            {busy ? "Starting…" : "Start upgrade"}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
