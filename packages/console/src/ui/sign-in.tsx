import { useState } from "preact/hooks";
import { ApiError, createApi } from "../model/api.ts";

export function SignIn(props: { notice: string | null; onSignedIn(token: string): void }) {
  const [token, setToken] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: Event) {
    e.preventDefault();
    const t = token.trim();
    if (t === "") return setError("Paste the admin token first.");
    setBusy(true);
    setError(null);
    try {
      await createApi(t).get("/v1/cluster");
      props.onSignedIn(t);
    } catch (err) {
      setBusy(false);
      if (err instanceof ApiError && err.status === 401)
        setError(
          "The coordinator did not accept that admin token. It is in <state-dir>/admin-token on the coordinator host (default /var/lib/muster/admin-token).",
        );
      else setError(`Could not sign in: ${(err as Error).message}`);
    }
  }

  return (
    <main class="sign-in">
      <form class="card" onSubmit={submit} aria-labelledby="sign-in-title">
        <h1 id="sign-in-title">muster</h1>
        <p class="muted">Sign in with the coordinator's admin token.</p>
        {props.notice && (
          <p class="notice" role="status">
            {props.notice}
          </p>
        )}
        <label for="token">Admin token</label>
        <input
          id="token"
          name="token"
          type="password"
          autocomplete="off"
          spellcheck={false}
          value={token}
          onInput={(e) => setToken((e.target as HTMLInputElement).value)}
          aria-describedby="token-help"
          aria-invalid={error !== null}
          required
        />
        <p id="token-help" class="muted small">
          Kept only in this browser tab (session storage) and sent only to this coordinator.
        </p>
        {error && (
          <p class="form-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" class="primary" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
    </main>
  );
}
