// `rke2 agent`: validates the token against /cacerts, waits for the server's /v1-rke2/readyz (as
// node:<password>, the agent's identity), serves kubelet healthz, registers its Node through the
// supervisor (node password checked server-side), heartbeats, and notifies READY=1 once registered.
import { loopbackFor, type SimConfig } from "./config.ts";
import { type Knobs, untilUptime } from "./env.ts";
import { ensureNodePassword } from "./files.ts";
import { HttpError, request } from "./http.ts";
import { fetchTrustedCA, serverBase } from "./join.ts";
import { startKubeletHealthz } from "./kubelet.ts";
import type { Lifecycle } from "./lifecycle.ts";
import { FatalError, log } from "./log.ts";
import { notifyReady } from "./notify.ts";
import { parseToken } from "./token.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runAgent(cfg: SimConfig, knobs: Knobs, life: Lifecycle): Promise<void> {
  if (!cfg.server) throw new FatalError("--server is required");
  if (!cfg.token) throw new FatalError("--token is required");
  const base = serverBase(cfg.server);
  const auth = { username: "node", password: parseToken(cfg.token, "node").password };
  let ca = "";
  for (;;) {
    try {
      ca = await fetchTrustedCA(base, cfg.token);
      await request(`${base}/v1-rke2/readyz`, { ca, auth });
      break;
    } catch (err) {
      if (err instanceof FatalError) throw err;
      if (err instanceof HttpError && (err.status === 401 || err.status === 403)) {
        throw new FatalError(`Failed to validate connection to cluster at ${base}: ${err.message}`);
      }
      log.info(`Waiting to retrieve agent configuration; server is not ready: ${(err as Error).message}`);
      await sleep(2000);
    }
  }
  const loopback = loopbackFor(cfg.nodeIP);
  const kubelet = await startKubeletHealthz(loopback);
  life.onStop(() => kubelet.close());
  await untilUptime(knobs.agentSeconds); // runtime start, image import
  const fields = {
    address: cfg.nodeIP,
    password: ensureNodePassword(cfg.dataDir),
    labels: cfg.nodeLabels,
    taints: cfg.nodeTaints,
  };
  // The first PUT registers the Node (password checked); later ones are kubelet status updates only.
  let body = JSON.stringify(fields);
  let supervisors = [base];
  const register = async () => {
    let lastErr: unknown;
    for (const s of supervisors) {
      try {
        await request(`${s}/v1-rke2/sim/nodes/${encodeURIComponent(cfg.nodeName)}`, {
          method: "PUT",
          body,
          ca,
          auth,
        });
        return;
      } catch (err) {
        lastErr = err;
      }
    }
    throw lastErr;
  };
  for (;;) {
    try {
      await register();
      body = JSON.stringify({ ...fields, heartbeat: true });
      break;
    } catch (err) {
      const why =
        err instanceof HttpError && err.body ? `${err.message}: ${err.body}` : (err as Error).message;
      log.info(`Waiting to register node ${cfg.nodeName}: ${why}`);
      await sleep(2000);
    }
  }
  try {
    const list = JSON.parse(await request(`${base}/v1-rke2/apiservers`, { ca, auth })) as string[];
    supervisors = [base, ...list.map((hp) => `https://${hp.replace(/:6443$/, "")}:9345`)];
  } catch {}
  const heartbeat = setInterval(() => {
    register().catch((err: Error) =>
      log.error(
        `Error updating node status, will retry: error getting node "${cfg.nodeName}": ${err.message}`,
      ),
    );
  }, knobs.heartbeatSeconds * 1000);
  life.onStop(() => clearInterval(heartbeat));
  log.info(`rke2 agent is up and running; node ${cfg.nodeName} registered`);
  await notifyReady("rke2 agent is ready");
}
