// Test world only (ClusterOptions.legacyAgentToken): makes the coordinator form its cluster the way a
// coordinator from before the agent token did, servers without `agent-token` and agents holding the
// server token. It records, before the first start, the agent-token mode "legacy": the mode this
// version records by itself when it first opens the database of a cluster formed by such a
// coordinator (domain/secrets/agent-token.ts), and under which it plans exactly as that one did.
// Usage (inside the coordinator machine): node legacy-agent-token-main.ts STATE_DIR
import { openStore } from "@muster/coordinator/store/store";

const stateDir = process.argv[2];
if (!stateDir) throw new Error("usage: legacy-agent-token-main.ts STATE_DIR");
const store = openStore(stateDir, Date.now);
try {
  if (store.nodes.summaries().length > 0)
    throw new Error(`${stateDir} already has nodes: not a new coordinator`);
  store.meta.set("agent-token-mode", "legacy");
} finally {
  store.close();
}
process.stdout.write(`agent-token mode legacy recorded in ${stateDir}\n`);
