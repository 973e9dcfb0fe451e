import { readFileSync, statSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { createHttp } from "@muster/agent/adapters/http";
import t from "tap";
import { selfSignedCert } from "../../helpers/self-signed-cert.ts";

const cert = selfSignedCert();
const other = selfSignedCert();

const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
  if (req.url === "/ping") return res.end("pong");
  if (req.url === "/redirect") {
    res.writeHead(302, { location: "/file" });
    return res.end();
  }
  if (req.url === "/file") return res.end("#!/bin/sh\necho hi\n");
  res.writeHead(404).end("nope");
};

async function server(t: { teardown(fn: () => unknown): void }, tls = true) {
  const srv = tls
    ? https.createServer({ cert: cert.cert, key: cert.key }, handler)
    : http.createServer(handler);
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  t.teardown(() => new Promise<void>((r) => srv.close(() => r())));
  return `${tls ? "https" : "http"}://127.0.0.1:${(srv.address() as AddressInfo).port}`;
}

t.test("get verifies against the given CA, refuses another, insecure skips verification", async (t) => {
  const base = await server(t);
  const client = createHttp();
  t.same(await client.get(`${base}/ping`, { ca: cert.cert }), { status: 200, body: "pong" });
  await t.rejects(client.get(`${base}/ping`, { ca: other.cert }), "wrong CA is refused");
  await t.rejects(client.get(`${base}/ping`), "system store does not know a self-signed cert");
  t.equal((await client.get(`${base}/ping`, { insecure: true })).body, "pong");
});

t.test("download follows redirects and writes with the given mode; 404 is reported", async (t) => {
  // Downloads trust the system store only; a plain-HTTP server stands in for get.rke2.io here.
  const base = await server(t, false);
  const dir = t.testdir();
  const client = createHttp();
  const dest = path.join(dir, "install.sh");
  t.same(await client.download(`${base}/redirect`, dest, { mode: 0o700 }), { status: 200 });
  t.equal(readFileSync(dest, "utf8"), "#!/bin/sh\necho hi\n");
  t.equal(statSync(dest).mode & 0o777, 0o700);
  t.same(await client.download(`${base}/missing`, path.join(dir, "x")), { status: 404 });
});
