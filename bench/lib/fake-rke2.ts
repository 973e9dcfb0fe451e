import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadOrCreateTls } from "@muster/coordinator/server/tls";
import { APISERVER_PORT, formatRke2Token, generateRke2Password, SUPERVISOR_PORT } from "@muster/shared";

// What the coordinator's registration probe checks before agents may join (docs/rke2-behaviour.md): a CA at
// :9345/cacerts whose hash the cluster token pins, :9345/ping = pong and :6443/readyz = ok, over TLS
// verified with that CA. The bench serves exactly that on a loopback alias (127.0.0.2 by default),
// with a CA it generates (reusing the coordinator's own PKI code), and hands out the matching token.

export interface FakeRke2 {
  address: string;
  /** K10<sha256 of the CA PEM>::server:<password>, as the init server would capture it. */
  token: string;
  close(): Promise<void>;
}

export async function startFakeRke2(address = "127.0.0.2"): Promise<FakeRke2> {
  const dir = await mkdtemp(join(tmpdir(), "muster-bench-rke2-"));
  // Generated into a scratch dir and kept in memory only, so a killed fleet leaves nothing behind.
  const tls = await loadOrCreateTls({ stateDir: dir, hosts: [address] }).finally(() =>
    rm(dir, { recursive: true, force: true }),
  );
  const ca = tls.caCert!;
  const token = formatRke2Token(ca, generateRke2Password());
  const routes: Record<string, string> = {
    "/cacerts": ca,
    "/ping": "pong",
    "/readyz": "ok",
    "/v1-rke2/readyz": "ok",
  };
  const servers: Server[] = [];
  for (const port of [SUPERVISOR_PORT, APISERVER_PORT]) {
    const server = createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
      const body = routes[req.url ?? ""];
      res
        .writeHead(body === undefined ? 404 : 200, { "content-type": "text/plain" })
        .end(body ?? "not found");
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", (err) => reject(new Error(`cannot listen on ${address}:${port}: ${err.message}`)));
      server.listen(port, address, resolve);
    });
    servers.push(server);
  }
  return {
    address,
    token,
    async close() {
      for (const s of servers) s.closeAllConnections();
      await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    },
  };
}
