import { readFileSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import { join } from "node:path";
import t from "tap";
import { WebSocket } from "ws";
import { runCli, startServe } from "../helpers/spawn.ts";

/** The child's resident set, KiB, from /proc (a bound is checked, never a time). */
function rssKiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? Number.NaN);
}

/** One unauthenticated socket that sends `frame` as its first frame; resolves with how it ended. */
function sendFirstFrame(
  url: string,
  frame: string,
): Promise<{ code: number; reason: string; status?: number; body?: string }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { rejectUnauthorized: false });
    let status: number | undefined;
    let body = "";
    ws.on("unexpected-response", (_req, res) => {
      status = res.statusCode;
      res.setEncoding("utf8");
      res.on("data", (d: string) => {
        body += d;
      });
      res.on("end", () => ws.terminate());
    });
    ws.on("open", () => ws.send(frame));
    ws.on("error", () => {});
    ws.on("close", (code, reason) =>
      resolve({ code, reason: String(reason), ...(status === undefined ? {} : { status, body }) }),
    );
  });
}

// The front door of a real `serve` child process: its limits come from --limits FILE.

t.test("--limits FILE is validated and applied", async (t) => {
  const dir = t.testdir();
  const bad = join(dir, "bad.yaml");
  writeFileSync(bad, "headersTimeoutMs: 5\n");
  const refused = await runCli(["serve", "--state-dir", join(dir, "s1"), "--limits", bad]);
  t.not(refused.code, 0, "a limit below the minimum is refused at start");
  t.match(refused.stderr, /headersTimeoutMs/, "and the field is named");

  const good = join(dir, "limits.yaml");
  writeFileSync(good, "rateLimit:\n  anonymous: { max: 2, windowMs: 60000 }\n");
  const served = await startServe([
    "--state-dir",
    join(dir, "s2"),
    "--listen",
    "127.0.0.1:0",
    "--limits",
    good,
  ]);
  t.teardown(() => served.child.kill("SIGKILL"));
  const statuses: number[] = [];
  // Loopback, our own child: the certificate is not what this checks.
  for (let i = 0; i < 4; i++)
    statuses.push(
      await new Promise<number>((resolve, reject) => {
        const req = request(`${served.url}/v1/nodes`, { rejectUnauthorized: false }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on("error", reject);
        req.end();
      }),
    );
  t.same(statuses, [401, 401, 429, 429], "the file's anonymous budget (2) is in force");
});

t.test("300 unauthenticated 1 MiB first frames leave the coordinator's RSS within 50 MiB", async (t) => {
  const dir = t.testdir();
  const served = await startServe(["--state-dir", join(dir, "s"), "--listen", "127.0.0.1:0"]);
  t.teardown(() => served.child.kill("SIGKILL"));
  const pid = served.child.pid!;
  const url = `${served.url.replace(/^https/, "wss")}/v1/agent`;
  const frame = "x".repeat(1024 * 1024);
  // "Where it started": a coordinator that has served a few agent sockets (code loaded, TLS warm).
  for (let i = 0; i < 5; i++) await sendFirstFrame(url, frame);
  const before = rssKiB(pid);
  const ends = await Promise.all(Array.from({ length: 300 }, () => sendFirstFrame(url, frame)));
  const refusedFrame = ends.filter((e) => e.code === 4400);
  const refusedUpgrade = ends.filter((e) => e.status === 429);
  t.equal(
    refusedFrame.length + refusedUpgrade.length,
    300,
    "every socket was refused: 4400 or a 429 upgrade",
  );
  t.ok(refusedFrame.length > 0, "some reached the frame limit");
  t.ok(refusedUpgrade.length > 0, "and the rest were refused before the handshake");
  t.match(JSON.parse(refusedUpgrade[0]?.body ?? "{}"), {
    error: { code: "TOO_MANY_REQUESTS", message: /too many unauthenticated agent connections/ },
  });
  t.ok(
    refusedFrame.every((e) => e.reason === "first frame larger than 65536 bytes"),
    "the close reason names the limit",
  );
  const after = rssKiB(pid);
  t.ok(
    after - before < 50 * 1024,
    `RSS ${Math.round(before / 1024)} -> ${Math.round(after / 1024)} MiB (bound: +50 MiB)`,
  );
  t.equal(served.child.exitCode, null, "the coordinator is still running");
});
