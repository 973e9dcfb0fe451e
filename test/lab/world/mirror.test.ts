import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startMirror } from "@muster/lab/world/mirror";
import { execa } from "execa";
import t from "tap";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mirror-test-"));
t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
fs.writeFileSync(path.join(dir, "install.sh"), "#!/bin/sh\necho hi\n");
fs.mkdirSync(path.join(dir, "v1.33.5+rke2r1"));
fs.writeFileSync(path.join(dir, "v1.33.5+rke2r1", "rke2.linux-amd64.tar.gz"), Buffer.alloc(70_000, 7));
fs.symlinkSync("/etc/passwd", path.join(dir, "escape"));

t.test("serves files, index, HEAD and 404s; never outside its dir", async (t) => {
  const m = await startMirror({ dir });
  t.teardown(() => m.close());
  const get = (p: string, init?: RequestInit) => fetch(`${m.url}${p}`, init);
  t.equal(await (await get("/")).text(), "#!/bin/sh\necho hi\n", "/ serves install.sh");
  const tar = await get("/v1.33.5%2Brke2r1/rke2.linux-amd64.tar.gz");
  t.equal(tar.status, 200);
  t.equal(tar.headers.get("content-type"), "application/gzip");
  t.equal((await tar.arrayBuffer()).byteLength, 70_000);
  const head = await get("/install.sh", { method: "HEAD" });
  t.equal(head.headers.get("content-length"), "18");
  for (const p of ["/nope", "/../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/escape", "/v1.33.5+rke2r1/"]) {
    const r = await get(p);
    t.equal(r.status, 404, `${p} -> 404`);
    await r.arrayBuffer();
  }
  t.equal((await get("/install.sh", { method: "POST" })).status, 405);
  // The log is written as each response finishes: the 70 kB body may finish after the HEAD.
  const logged = m.log.map((e) => `${e.method} ${e.path} ${e.status}`);
  for (const line of [
    "GET / 200",
    "GET /v1.33.5%2Brke2r1/rke2.linux-amd64.tar.gz 200",
    "HEAD /install.sh 200",
  ])
    t.ok(logged.includes(line), `logged: ${line}`, { logged });
});

t.test("close() ends open keep-alive connections", async (t) => {
  const m = await startMirror({ dir });
  await (await fetch(`${m.url}/install.sh`)).text(); // leaves a keep-alive socket open
  const started = Date.now();
  await m.close();
  t.ok(Date.now() - started < 1000, "closed promptly");
  await t.rejects(fetch(`${m.url}/install.sh`), "no longer listening");
});

t.test("mirror-main prints its URL, logs requests, exits 0 on SIGTERM, 2 on bad args", async (t) => {
  const main = fileURLToPath(import.meta.resolve("@muster/lab/world/mirror-main"));
  const child = execa(process.execPath, [main, dir, "--listen", "127.0.0.1:0"], { reject: false });
  const url = await new Promise<string>((resolve) => {
    child.stdout.on("data", (d: Buffer) => {
      const m = /listening on (\S+)/.exec(String(d));
      if (m?.[1]) resolve(m[1]);
    });
  });
  t.equal(await (await fetch(`${url}/install.sh`)).text(), "#!/bin/sh\necho hi\n");
  await new Promise((r) => setTimeout(r, 50));
  child.kill("SIGTERM");
  const r = await child;
  t.equal(r.exitCode, 0);
  t.match(r.stdout, /GET \/install\.sh 200 18/);
  const bad = await execa(process.execPath, [main, dir, "--listen", "nope"], { reject: false });
  t.equal(bad.exitCode, 2);
  t.match(bad.stderr, /usage: mirror-main/);
});
