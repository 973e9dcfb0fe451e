import { connect as netConnect, type Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { FrontDoorLimitsSchema, trafficClass } from "@muster/coordinator/transport/http/limits";
import { hashSecret } from "@muster/shared";
import t from "tap";
import { WebSocket } from "ws";
import { selfSignedCert } from "../../../helpers/self-signed-cert.ts";
import { ADMIN_TOKEN, auth, makeApp } from "../../helpers/harness.ts";

// The front door's limits (docs/reference.md#front-door-limits), over real loopback sockets: slow and
// idle connections are cut within the configured times, per-source budgets keep agents apart from the
// operator, and TLS 1.2 offers only AEAD suites with forward secrecy.

async function listen(app: { listen: (o: object) => Promise<string>; server: { address(): unknown } }) {
  await app.listen({ host: "127.0.0.1", port: 0 });
  return (app.server.address() as { port: number }).port;
}

/** Resolves with what the server wrote once it closes the socket; rejects after `deadlineMs`. */
function closedWithin(socket: Socket, deadlineMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = "";
    const timer = setTimeout(() => reject(new Error(`still open after ${deadlineMs} ms`)), deadlineMs);
    socket.on("data", (d) => {
      got += d.toString();
    });
    socket.on("error", () => {});
    socket.on("close", () => {
      clearTimeout(timer);
      resolve(got);
    });
  });
}

const fast = FrontDoorLimitsSchema.parse({
  connectionTimeoutMs: 800,
  keepAliveTimeoutMs: 300,
  headersTimeoutMs: 600,
  requestTimeoutMs: 1200,
});

t.test("slowloris: headers trickled byte by byte are cut with a 408 in shape", async (t) => {
  const { app } = await makeApp(t, { app: { limits: fast } });
  const port = await listen(app);
  const socket = netConnect(port, "127.0.0.1");
  t.teardown(() => socket.destroy());
  socket.write("GET /healthz HTTP/1.1\r\nHost: x\r\n");
  const trickle = setInterval(() => socket.writable && socket.write("X-a: b\r\n"), 100);
  t.teardown(() => clearInterval(trickle));
  // Generous deadline (the machine is shared); the configured time is 0.6 s.
  const answer = await closedWithin(socket, 15_000);
  t.match(answer, /^HTTP\/1.1 408/, "answered 408");
  t.match(answer, /\{"error":\{"code":"VALIDATION_FAILED","message":"request not received in time"\}\}/);
});

t.test("an idle connection that never sends anything is closed", async (t) => {
  const { app } = await makeApp(t, { app: { limits: fast } });
  const port = await listen(app);
  const socket = netConnect(port, "127.0.0.1");
  t.teardown(() => socket.destroy());
  await closedWithin(socket, 15_000);
  t.pass("closed by the server");
});

t.test("an idle keep-alive connection after a request is closed", async (t) => {
  const { app } = await makeApp(t, { app: { limits: fast } });
  const port = await listen(app);
  const socket = netConnect(port, "127.0.0.1");
  t.teardown(() => socket.destroy());
  socket.write("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  const answer = await closedWithin(socket, 15_000);
  t.match(answer, /^HTTP\/1.1 200/, "the request was answered, then the idle socket closed");
});

t.test("anonymous floods hit 429 in shape; the admin token and /healthz are never limited", async (t) => {
  const limits = FrontDoorLimitsSchema.parse({
    rateLimit: { agent: { max: 3, windowMs: 60_000 }, anonymous: { max: 3, windowMs: 60_000 } },
  });
  const { app } = await makeApp(t, { app: { limits } });
  const statuses: number[] = [];
  for (let i = 0; i < 6; i++) statuses.push((await app.inject({ url: "/v1/nodes" })).statusCode);
  t.same(statuses, [401, 401, 401, 429, 429, 429], "the anonymous budget of this address runs out");
  const limited = await app.inject({ url: "/v1/nodes" });
  t.same(Object.keys(limited.json().error).sort(), ["code", "message"]);
  t.equal(limited.json().error.code, "TOO_MANY_REQUESTS");
  for (let i = 0; i < 10; i++) {
    t.equal((await app.inject({ url: "/v1/nodes", headers: auth })).statusCode, 200, "admin answers");
    t.equal((await app.inject({ url: "/healthz" })).statusCode, 200, "healthz answers");
  }
  // Agents have their own budget: the anonymous flood did not spend it, and theirs not the admin's.
  const agent = [];
  for (let i = 0; i < 5; i++) agent.push((await app.inject({ url: "/v1/agent" })).statusCode);
  t.same(agent.slice(3), [429, 429], "the agent budget is apart and bounded too");
  t.not(agent[0], 429, "the agent budget was not spent by the anonymous flood");
  t.equal((await app.inject({ url: "/v1/nodes", headers: auth })).statusCode, 200);
});

t.test("traffic classes", async (t) => {
  const h = hashSecret(ADMIN_TOKEN);
  const c = (url: string, authorization?: string) =>
    trafficClass({ url, headers: authorization ? { authorization } : {} }, h);
  t.equal(c("/healthz"), "uncounted");
  t.equal(c("/readyz?x=1"), "uncounted");
  t.equal(c("/v1/nodes", `Bearer ${ADMIN_TOKEN}`), "admin");
  t.equal(c("/v1/nodes", "Bearer wrong"), "anonymous");
  t.equal(c("/v1/agent"), "agent");
  t.equal(c("/v1/artifacts/muster-agent-amd64"), "agent");
  t.equal(c("/v1/nodes"), "anonymous");
});

t.test("a burst of agent handshakes does not stop /healthz or the admin API", async (t) => {
  const { app } = await makeApp(t);
  const port = await listen(app);
  const sockets: WebSocket[] = [];
  t.teardown(() => {
    for (const s of sockets) s.terminate();
  });
  const opened = Array.from({ length: 300 }, () => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/v1/agent`);
    sockets.push(ws);
    ws.on("error", () => {});
    return new Promise<void>((resolve) => {
      ws.on("open", () => {
        ws.send(JSON.stringify({ type: "enrol", joinToken: "not-a-token" }));
        resolve();
      });
      ws.on("close", () => resolve());
    });
  });
  // While the burst is in flight the operator's calls still answer.
  const [health, nodes] = await Promise.all([
    fetch(`http://127.0.0.1:${port}/healthz`),
    fetch(`http://127.0.0.1:${port}/v1/nodes`, { headers: auth }),
  ]);
  t.equal(health.status, 200, "/healthz answers during the burst");
  t.equal(nodes.status, 200, "the admin API answers during the burst");
  await Promise.all(opened);
  t.equal((await fetch(`http://127.0.0.1:${port}/v1/nodes`, { headers: auth })).status, 200);
});

t.test("an unauthenticated socket that ignores the close frame is terminated", async (t) => {
  const { app } = await makeApp(t);
  const port = await listen(app);
  const socket = netConnect(port, "127.0.0.1");
  t.teardown(() => socket.destroy());
  socket.write(
    "GET /v1/agent HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
  );
  // A masked text frame header announcing 1 MiB: refused as the header arrives; we never answer
  // the close frame, the server must cut the TCP connection itself (well before ws's 30 s).
  const header = Buffer.from([0x81, 0xff, 0, 0, 0, 0, 0, 0x10, 0, 0, 1, 2, 3, 4]);
  socket.write(header);
  const got = await closedWithin(socket, 15_000);
  t.match(got, /^HTTP\/1.1 101/, "upgraded first");
  t.ok(got.includes("first frame larger than 65536 bytes"), "close reason names the limit, no echo");
});

t.test("TLS 1.2 refuses CBC/SHA-1 suites; ECDHE+GCM and TLS 1.3 are accepted", async (t) => {
  const cert = selfSignedCert();
  const { app } = await makeApp(t, { app: { https: { cert: cert.cert, key: cert.key } } });
  const port = await listen(app);
  const handshake = (opts: object) =>
    new Promise<string>((resolve) => {
      const s = tlsConnect({ host: "127.0.0.1", port, rejectUnauthorized: false, ...opts }, () => {
        const proto = `${s.getProtocol()} ${s.getCipher().name}`;
        s.destroy();
        resolve(proto);
      });
      s.on("error", (err) => resolve(`refused: ${(err as NodeJS.ErrnoException).code ?? err.message}`));
    });
  t.match(
    await handshake({ maxVersion: "TLSv1.2", ciphers: "ECDHE-ECDSA-AES128-SHA" }),
    /^refused/,
    "ECDHE-ECDSA-AES128-SHA (CBC, SHA-1) refused",
  );
  t.match(await handshake({ maxVersion: "TLSv1.2", ciphers: "AES128-GCM-SHA256" }), /^refused/, "no FS");
  t.equal(
    await handshake({ maxVersion: "TLSv1.2", ciphers: "ECDHE-ECDSA-AES128-GCM-SHA256" }),
    "TLSv1.2 ECDHE-ECDSA-AES128-GCM-SHA256",
  );
  t.match(await handshake({}), /^TLSv1.3 TLS_/, "TLS 1.3 as is");
});
