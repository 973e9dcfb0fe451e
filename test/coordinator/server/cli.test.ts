import { execFileSync } from "node:child_process";
import { readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CloseCodes } from "@muster/shared";
import t from "tap";
import { facts } from "../helpers/harness.ts";
import { fetchJson, pinnedWebSocket, runCli, startServe, waitFor } from "../helpers/spawn.ts";

t.test("--help, --version and usage errors (one line, exit 2)", async (t) => {
  const help = await runCli(["--help"]);
  t.equal(help.code, 0);
  t.match(help.stdout, /Usage: muster-coordinator <command>/);
  const serveHelp = await runCli(["serve", "--help"]);
  t.equal(serveHelp.code, 0);
  for (const flag of ["--config", "--state-dir", "--listen", "--advertise-url", "--tls-cert", "--tls-key"])
    t.match(serveHelp.stdout, flag);
  t.match(serveHelp.stdout, "/var/lib/muster");
  t.match(serveHelp.stdout, "0.0.0.0:9443");
  t.equal((await runCli(["--version"])).stdout, "0.1.0\n");

  const dir = t.testdir({ "bad.yaml": "agents:\n  concurrency: lots\n", "broken.yaml": "a: [\n" });
  const cases: Array<[string[], RegExp]> = [
    [[], /missing command/],
    [["frobnicate"], /unknown command frobnicate/],
    [["--bogus"], /unknown flag --bogus/],
    [["serve", "--bogus"], /unknown flag --bogus/],
    [["serve", "--listen"], /--listen needs a value/],
    [["serve", "--listen", "nope"], /--listen: must be HOST:PORT/],
    [["serve", "--listen", "127.0.0.1:99999"], /--listen: must be HOST:PORT/],
    [["serve", "--advertise-url", "http://x:1"], /--advertise-url: must be an https:\/\/ URL/],
    [
      ["serve", "--advertise-url", "https://x:1/sub"],
      /--advertise-url: must be https:\/\/host\[:port\] with no path/,
    ],
    [["serve", "--tls-cert", join(dir, "bad.yaml")], /--tls-key: needed with --tls-cert/],
    [["serve", "--config", join(dir, "missing.yaml")], /--config: no such file/],
    [["serve", "--state-dir", join(dir, "s"), "--config", join(dir, "bad.yaml")], /agents\.concurrency/],
    [["serve", "--state-dir", join(dir, "s"), "--config", join(dir, "broken.yaml")], /not valid YAML/],
    [["serve", "extra"], /unexpected argument extra/],
  ];
  const results = await Promise.all(cases.map(([args]) => runCli(args)));
  for (const [i, [args, message]] of cases.entries()) {
    const res = results[i]!;
    t.equal(res.code, 2, `${args.join(" ")}: exit 2`);
    t.match(res.stderr, /^muster-coordinator: [^\n]+\n$/, `${args.join(" ")}: one line`);
    t.match(res.stderr, message);
  }
});

t.test("serve: HTTPS with the pinned key, admin token file, agents, SIGTERM, restart", async (t) => {
  const stateDir = join(t.testdir(), "state");
  const served = await startServe(["--state-dir", stateDir, "--listen", "127.0.0.1:0"]);
  t.teardown(() => served.child.kill("SIGKILL"));
  t.match(served.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  const tokenFile = join(stateDir, "admin-token");
  t.equal(statSync(tokenFile).mode & 0o777, 0o600, "admin-token is 0600");
  t.equal(statSync(stateDir).mode & 0o777, 0o700);
  const adminToken = readFileSync(tokenFile, "utf8").trim();
  t.ok(
    served.lines.some((l) => l["adminTokenFile"] === tokenFile),
    "says where the admin token is",
  );

  // curl's own --pinnedpubkey check accepts the printed pin.
  const health = execFileSync("curl", ["-sS", "-k", "--pinnedpubkey", served.pin, `${served.url}/healthz`], {
    encoding: "utf8",
  });
  t.same(JSON.parse(health), { status: "ok" });
  const ca = join(stateDir, "tls", "ca.crt");
  const verified = execFileSync(
    "curl",
    ["-sS", "--cacert", ca, `https://localhost:${new URL(served.url).port}/healthz`],
    { encoding: "utf8" },
  );
  t.same(JSON.parse(verified), { status: "ok" }, "the generated CA verifies the serving cert for localhost");

  const noAuth = await fetchJson(served.url, "/v1/cluster", "");
  t.equal(noAuth.status, 401);
  const joinToken = await fetchJson(served.url, "/v1/join-tokens", adminToken, { role: "agent" });
  t.equal(joinToken.status, 201);
  t.match(joinToken.body.command, `--pinnedpubkey '${served.pin}' ${served.url}/v1/bootstrap.sh`);

  // A real agent socket over TLS: enrol, then disconnecting marks the node disconnected.
  const ws = pinnedWebSocket(`${served.url.replace("https", "wss")}/v1/agent`, served.pin);
  await new Promise((r) => ws.once("open", r));
  ws.send(
    JSON.stringify({
      type: "enrol",
      joinToken: joinToken.body.token,
      facts: facts("w-1"),
      agentVersion: "1",
    }),
  );
  await new Promise((r) => ws.once("message", r));
  t.equal((await fetchJson(served.url, "/v1/nodes/w-1", adminToken)).body.connected, true);
  ws.close();
  await waitFor(
    async () => (await fetchJson(served.url, "/v1/nodes/w-1", adminToken)).body.connected === false,
  );

  const wrongPin = pinnedWebSocket(
    `${served.url.replace("https", "wss")}/v1/agent`,
    `sha256//${"A".repeat(43)}=`,
  );
  const err = await new Promise<Error>((r) => wrongPin.once("error", r));
  t.match(err.message, /pin mismatch/, "a client with another pin refuses to talk");

  // Graceful stop: agents get 1001, exit 0.
  const ws2 = pinnedWebSocket(`${served.url.replace("https", "wss")}/v1/agent`, served.pin);
  await new Promise((r) => ws2.once("open", r));
  const closed = new Promise<number>((r) => ws2.once("close", (code) => r(code)));
  served.child.kill("SIGTERM");
  t.equal(await served.exited, 0, "SIGTERM exits 0");
  t.equal(await closed, CloseCodes.SHUTDOWN, "open agent sockets get 1001");
  const everything = served.stdout() + served.stderr();
  t.notOk(everything.includes(adminToken), "the admin token is never printed");
  t.notOk(everything.includes(joinToken.body.token), "nor the join token");
  t.ok(
    served.lines.every((l) => typeof l["level"] === "number" && typeof l["msg"] === "string"),
    "JSON log lines",
  );

  // Restart: same cert and pin, same admin token.
  const again = await startServe(["--state-dir", stateDir, "--listen", "127.0.0.1:0"]);
  t.equal(again.pin, served.pin, "pin survives a restart");
  t.ok(again.lines.some((l) => l["tls"] === "reused"));
  t.equal(readFileSync(tokenFile, "utf8").trim(), adminToken);
  t.equal((await fetchJson(again.url, "/v1/nodes", adminToken)).body.nodes.length, 1, "state survives");
  again.child.kill("SIGINT");
  t.equal(await again.exited, 0, "SIGINT exits 0");

  // A deleted admin-token file is replaced, and the log says so.
  rmSync(tokenFile);
  const third = await startServe(["--state-dir", stateDir, "--listen", "127.0.0.1:0"]);
  const fresh = readFileSync(tokenFile, "utf8").trim();
  t.not(fresh, adminToken);
  t.ok(third.lines.some((l) => String(l["msg"]).includes("was missing")));
  t.equal((await fetchJson(third.url, "/v1/nodes", adminToken)).status, 401, "the old token stops working");
  t.equal((await fetchJson(third.url, "/v1/nodes", fresh)).status, 200);
  third.child.kill("SIGTERM");
  t.equal(await third.exited, 0);
});

t.test("serve --config applies the spec; operator-supplied cert is served", async (t) => {
  const dir = t.testdir({ "cluster.yaml": "name: lab\nagents:\n  concurrency: 50\n" });
  const gen = await startServe(["--state-dir", join(dir, "gen"), "--listen", "127.0.0.1:0"]);
  gen.child.kill("SIGTERM");
  await gen.exited;
  const cert = join(dir, "gen", "tls", "server.crt");
  const key = join(dir, "gen", "tls", "server.key");
  writeFileSync(join(dir, "c.pem"), readFileSync(cert));
  const served = await startServe([
    "--state-dir",
    join(dir, "s"),
    "--listen",
    "127.0.0.1:0",
    "--config",
    join(dir, "cluster.yaml"),
    "--tls-cert",
    join(dir, "c.pem"),
    "--tls-key",
    key,
    "--advertise-url",
    "https://coord.example:9443/",
  ]);
  t.teardown(() => served.child.kill("SIGKILL"));
  t.equal(served.url, "https://coord.example:9443");
  t.equal(served.pin, gen.pin, "the supplied cert's pin");
  const admin = readFileSync(join(dir, "s", "admin-token"), "utf8").trim();
  const local = `https://${served.lines.find((l) => l["url"])!["listen"]}`;
  const spec = await fetchJson(local, "/v1/cluster/spec", admin);
  t.match(spec.body, { name: "lab", agents: { concurrency: 50 } });
  served.child.kill("SIGTERM");
  t.equal(await served.exited, 0);
});
