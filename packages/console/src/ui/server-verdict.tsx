import type { ApiError } from "../model/api.ts";

/** The coordinator's refusal as it sent it: code, message, and details verbatim. */
export function ServerVerdict(props: { error: ApiError }) {
  const { error } = props;
  return (
    <div class="verdict" role="alert">
      <p>
        <strong>The coordinator refused: </strong>
        {error.message} <code class="small">{error.code}</code>
      </p>
      {error.details && error.details.length > 0 && (
        <>
          <p class="small muted">Details from the coordinator:</p>
          <pre class="details">{JSON.stringify(error.details, null, 2)}</pre>
        </>
      )}
    </div>
  );
}
