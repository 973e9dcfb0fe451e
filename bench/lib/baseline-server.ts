import { randomBytes } from "node:crypto";
import { createServer } from "node:https";
import { parseArgs } from "node:util";
import { loadOrCreateTls } from "@muster/coordinator/server/tls";
import { type AgentFrame, defaultSpec, sealPlan } from "@muster/shared";
import { WebSocketServer } from "ws";

// `bench:coordinator -- --baseline`: the floor muster is measured against. A bare Node https server
// with the same TLS material (loadOrCreateTls) and a bare `ws` server on /v1/agent that exchanges the
// same frames as the coordinator (welcome with a credential, checks.run, plan.apply) with the same
// fleet client (fleet.ts), and answers only the two REST reads the fleet makes (GET /v1/cluster)
// and the bench's token requests. No store, no validation, no timers: what the platform costs.
// Not a coordinator.

const { values: args } = parseArgs({ options: { "state-dir": { type: "string" } } });
const tls = await loadOrCreateTls({ stateDir: args["state-dir"]!, hosts: ["127.0.0.1"] });
const spec = defaultSpec();
let serversReady = 0;
let agentsReady = 0;

const server = createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
  res.setHeader("content-type", "application/json");
  if (req.method === "POST" && req.url === "/v1/join-tokens") {
    // Drain the body; the role is encoded in the token so enrol needs no lookup.
    let body = "";
    req.on("data", (d) => {
      body += d;
    });
    req.on("end", () => {
      const role = (JSON.parse(body) as { role: string }).role;
      res.end(JSON.stringify({ token: `${role}.${randomBytes(8).toString("hex")}` }));
    });
    return;
  }
  if (req.url === "/v1/cluster") {
    const ready = serversReady > 0 ? "ready" : "initializing";
    res.end(JSON.stringify({ phase: ready, agents: { total: agentsReady, ready: agentsReady } }));
    return;
  }
  res.statusCode = 404;
  res.end('{"error":{"code":"NOT_FOUND","message":"not in the baseline"}}');
});

const wss = new WebSocketServer({ server, path: "/v1/agent", perMessageDeflate: false });
wss.on("connection", (ws) => {
  let role: "server" | "agent" = "agent";
  let name = "";
  ws.on("message", (data) => {
    const frame = JSON.parse(String(data)) as AgentFrame;
    if (frame.type === "enrol") {
      role = frame.joinToken.startsWith("server.") ? "server" : "agent";
      name = frame.facts.hostname;
      const credential = randomBytes(32).toString("base64url");
      ws.send(JSON.stringify({ type: "welcome", node: name, heartbeatSeconds: 15, credential }));
      const minimums = { cpus: 1, memoryGiB: 1, diskGiB: 1 };
      ws.send(
        JSON.stringify({
          type: "checks.run",
          requestId: name,
          role,
          minimums,
          ignore: [],
          peers: [],
          vipInUse: false,
        }),
      );
    } else if (frame.type === "checks.result") {
      const plan = sealPlan({
        node: name,
        role,
        init: role === "server",
        install: { installerUrl: spec.rke2.installerUrl, type: role },
        config: {},
        manifests: [],
        service: role === "server" ? "rke2-server" : "rke2-agent",
        readiness: { registrationAddress: null, timeoutSeconds: 600 },
        captureToken: false,
      });
      ws.send(JSON.stringify({ type: "plan.apply", plan }));
    } else if (frame.type === "plan.done") {
      if (role === "server") serversReady += 1;
      else agentsReady += 1;
    }
  });
});

await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
const { port } = server.address() as { port: number };
console.log(JSON.stringify({ url: `https://127.0.0.1:${port}`, pin: tls.pin, msg: "baseline serving" }));
process.once("SIGTERM", () => process.exit(0));
