import type { WhatIfView } from "../model/whatif.ts";
import { whatIfVerdict } from "../model/whatif.ts";

export function WhatIfPanel(props: { whatif: WhatIfView }) {
  const { servers, warnings } = props.whatif;
  return (
    <section class="card" aria-labelledby="whatif-title">
      <h2 id="whatif-title">What if a server is lost</h2>
      {servers.length === 0 ? (
        <p class="muted">No etcd member yet.</p>
      ) : (
        <ul class="whatif">
          {servers.map((s) => (
            <li key={s.node} class={s.ifLost.quorumKept ? "" : "lost"}>
              <strong>{s.node}</strong>: {whatIfVerdict(s.ifLost)}
            </li>
          ))}
        </ul>
      )}
      {warnings.length > 0 && (
        <ul class="warnings">
          {warnings.map((w) => (
            <li key={w}>{w}</li>
          ))}
        </ul>
      )}
    </section>
  );
}
