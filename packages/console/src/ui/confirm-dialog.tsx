import { useState } from "preact/hooks";
import { ApiError, isUnauthorized } from "../model/api.ts";
import { Dialog } from "./dialog.tsx";
import { ServerVerdict } from "./server-verdict.tsx";

// Asks before an action that changes the cluster and, when the coordinator refuses (409 QUORUM_GUARD
// for a remove, OPERATION_IN_FLIGHT, ...), shows its message and details as sent. Generic on
// purpose: remove and upgrade reuse it with their own words and request.
export function ConfirmDialog(props: {
  title: string;
  description: string;
  confirmLabel: string;
  danger: boolean;
  run(): Promise<unknown>;
  onDone(result: unknown): void;
  onClose(): void;
  onUnauthorized(): void;
}) {
  const [busy, setBusy] = useState(false);
  const [refusal, setRefusal] = useState<ApiError | null>(null);

  async function confirm() {
    setBusy(true);
    setRefusal(null);
    try {
      props.onDone(await props.run());
    } catch (err) {
      setBusy(false);
      if (isUnauthorized(err)) return props.onUnauthorized();
      setRefusal(err instanceof ApiError ? err : new ApiError(0, "ERROR", (err as Error).message));
    }
  }

  return (
    <Dialog id="confirm" title={props.title} onClose={props.onClose}>
      <p>{props.description}</p>
      {refusal && <ServerVerdict error={refusal} />}
      <div class="dialog-actions">
        <button type="button" onClick={props.onClose}>
          Cancel
        </button>
        <button type="button" class={props.danger ? "danger" : "primary"} disabled={busy} onClick={confirm}>
          {busy ? "Working…" : props.confirmLabel}
        </button>
      </div>
    </Dialog>
  );
}
