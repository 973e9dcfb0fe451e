import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { artifactsRoutes } from "@muster/coordinator/transport/delivery/artifacts-routes";
import Fastify from "fastify";
import t, { type Test } from "tap";

const sha = (s: string) => createHash("sha256").update(s).digest("hex");

async function appWith(t: Test) {
  const dir = t.testdir({
    "muster-agent-linux-amd64.tar.gz": "bundle bytes",
    "secret.txt": "not listed",
    "listed-but-gone.tar.gz": "x",
  });
  writeFileSync(
    path.join(dir, "SHA256SUMS"),
    `${sha("bundle bytes")}  muster-agent-linux-amd64.tar.gz\n${sha("x")}  ghost.tar.gz\n`,
  );
  mkdirSync(path.join(dir, "sub"));
  const app = Fastify();
  await app.register(artifactsRoutes, { dir });
  t.teardown(() => app.close());
  return { app, dir };
}

t.test("serves a listed bundle with its sha256 as ETag, and 304 on a match", async (t) => {
  const { app } = await appWith(t);
  const r = await app.inject({ url: "/v1/artifacts/muster-agent-linux-amd64.tar.gz" });
  t.equal(r.statusCode, 200);
  t.equal(r.body, "bundle bytes");
  t.equal(r.headers.etag, `"${sha("bundle bytes")}"`);
  t.equal(r.headers["content-type"], "application/gzip");
  t.equal(r.headers["content-length"], "12");
  const again = await app.inject({
    url: "/v1/artifacts/muster-agent-linux-amd64.tar.gz",
    headers: { "if-none-match": `"${sha("bundle bytes")}"` },
  });
  t.equal(again.statusCode, 304);
  const head = await app.inject({ method: "HEAD", url: "/v1/artifacts/muster-agent-linux-amd64.tar.gz" });
  t.equal(head.statusCode, 200);
});

t.test("anything not listed in SHA256SUMS is a 404 in the contract's error shape", async (t) => {
  const { app } = await appWith(t);
  for (const url of [
    "/v1/artifacts/secret.txt",
    "/v1/artifacts/SHA256SUMS",
    "/v1/artifacts/..%2F..%2F..%2Fetc%2Fpasswd",
    "/v1/artifacts/sub",
  ]) {
    const r = await app.inject({ url });
    t.equal(r.statusCode, 404, url);
    t.equal(r.json().error.code, "NOT_FOUND");
    t.match(r.json().error.message, /No artifact named/);
  }
  // Dot segments are resolved by the router before any route matches (the app's 404 handler answers).
  t.equal((await app.inject({ url: "/v1/artifacts/%2e%2e" })).statusCode, 404);
  const ghost = await app.inject({ url: "/v1/artifacts/ghost.tar.gz" });
  t.equal(ghost.statusCode, 404);
  t.match(ghost.json(), { error: { code: "NOT_FOUND", message: /listed but missing/ } });
});

t.test("an artifacts dir without SHA256SUMS serves nothing", async (t) => {
  const app = Fastify();
  await app.register(artifactsRoutes, { dir: t.testdir({ "muster-agent-linux-amd64.tar.gz": "x" }) });
  t.teardown(() => app.close());
  const r = await app.inject({ url: "/v1/artifacts/muster-agent-linux-amd64.tar.gz" });
  t.equal(r.statusCode, 404);
});

t.test(
  "the plugin serves artifacts only: POST /v1/bootstrap/verify is the open routes' (http/routes/open.ts)",
  async (t) => {
    const { app } = await appWith(t);
    const r = await app.inject({ method: "POST", url: "/v1/bootstrap/verify", payload: { token: "x" } });
    t.equal(r.statusCode, 404);
  },
);
