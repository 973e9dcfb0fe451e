import type { JoinTokenCreated } from "@muster/shared";
import { useRef, useState } from "preact/hooks";
import { type Api, ApiError, isUnauthorized } from "../model/api.ts";
import { DEFAULT_TTL_SECONDS, TTL_CHOICES } from "../model/format.ts";
import { copyText } from "./copy.ts";
import { Dialog } from "./dialog.tsx";
import { ServerVerdict } from "./server-verdict.tsx";

// "Add node": mint a join token for a role and lifetime, then show the one-line bootstrap to paste
// on the new machine. The token is in that line and is shown only here, once.
export function AddNodeDialog(props: { api: Api; onClose(): void; onUnauthorized(): void }) {
  const [role, setRole] = useState<"server" | "agent">("server");
  const [ttl, setTtl] = useState(DEFAULT_TTL_SECONDS);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [created, setCreated] = useState<JoinTokenCreated | null>(null);
  const [copied, setCopied] = useState<string | null>(null);
  const commandRef = useRef<HTMLElement>(null);

  async function mint(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      setCreated(
        await props.api.send<JoinTokenCreated>("POST", "/v1/join-tokens", { role, ttlSeconds: ttl }),
      );
    } catch (err) {
      if (isUnauthorized(err)) return props.onUnauthorized();
      setError(err instanceof ApiError ? err : new ApiError(0, "ERROR", (err as Error).message));
    } finally {
      setBusy(false);
    }
  }

  async function copy() {
    if (!created || !commandRef.current) return;
    const how = await copyText(created.command, commandRef.current);
    setCopied(how === "copied" ? "Copied to the clipboard." : "Selected: press Ctrl+C (⌘C) to copy.");
  }

  return (
    <Dialog id="add-node" title="Add a node" onClose={props.onClose}>
      {created === null ? (
        <form onSubmit={mint}>
          <fieldset>
            <legend>Role</legend>
            {(["server", "agent"] as const).map((r) => (
              <label key={r} class="choice">
                <input type="radio" name="role" value={r} checked={role === r} onChange={() => setRole(r)} />{" "}
                {r === "server" ? "Server (control plane, etcd)" : "Agent (worker)"}
              </label>
            ))}
          </fieldset>
          <label for="ttl">Join token valid for</label>
          <select
            id="ttl"
            value={String(ttl)}
            onChange={(e) => setTtl(Number((e.target as HTMLSelectElement).value))}
          >
            {TTL_CHOICES.map((c) => (
              <option key={c.seconds} value={String(c.seconds)}>
                {c.label}
              </option>
            ))}
          </select>
          {error && <ServerVerdict error={error} />}
          <div class="dialog-actions">
            <button type="button" onClick={props.onClose}>
              Cancel
            </button>
            <button type="submit" class="primary" disabled={busy}>
              {busy ? "Creating…" : "Create join command"}
            </button>
          </div>
        </form>
      ) : (
        <div>
          <p>
            Run this as root on the new {created.role} machine. It pins this coordinator's key and carries
            join token <code>{created.id}</code>, valid until{" "}
            <time dateTime={created.expiresAt}>{new Date(created.expiresAt).toLocaleString()}</time>.
          </p>
          <pre class="command">
            <code ref={commandRef} id="join-command">
              {created.command}
            </code>
          </pre>
          <p class="small muted" role="status" aria-live="polite">
            {copied ?? "This command is shown only now; copy it before closing."}
          </p>
          <div class="dialog-actions">
            <button type="button" class="primary" onClick={copy}>
              Copy command
            </button>
            <button type="button" onClick={props.onClose}>
              Done
            </button>
          </div>
        </div>
      )}
    </Dialog>
  );
}
