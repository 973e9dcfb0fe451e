import { execFile } from "node:child_process";
import { chmodSync, writeFileSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { runOperator } from "@muster/cli/main";
import t from "tap";
import { makeTestTls, WRONG_PIN } from "../coordinator/transport/delivery/helpers/tls-cert.ts";
import { ADMIN_TOKEN, CLUSTER, EVENTS, NODES, startFakeApi } from "./helpers/fake-api.ts";

const tls = makeTestTls();
const api = await startFakeApi(tls);
t.teardown(() => api.close());
const dir = t.testdir({ "ca.crt": tls.caCert });
const CA = path.join(dir, "ca.crt");
// Defaults that exist nowhere, so the host's /var/lib/muster never leaks into a test.
const defaults = {
  server: "https://127.0.0.1:1",
  caFile: "/nonexistent/ca.crt",
  tokenFile: "/nonexistent/admin-token",
};

async function muster(
  argv: string[],
  env: Record<string, string> = {},
  extra: { signal?: AbortSignal } = {},
) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runOperator(argv, {
    env: { MUSTER_SERVER: api.url, MUSTER_TOKEN: ADMIN_TOKEN, ...env },
    out: (s) => out.push(s),
    err: (s) => err.push(s),
    defaults,
    now: () => Date.parse("2030-01-01T00:02:30.000Z"),
    followIntervalMs: 10,
    ...extra,
  });
  return { code, stdout: out.join("\n"), stderr: err.join("\n") };
}

t.test("status: human summary and -o json", async (t) => {
  const r = await muster(["status", "--ca-file", CA]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /cluster: +prod \(forming\)/);
  t.match(r.stdout, /servers: +2\/3 ready, quorum 2, tolerates 0 failures/);
  t.match(r.stdout, /agents: +1\/2 ready/);
  t.match(r.stdout, /join: +s3 joining since 2m ago/);
  t.match(r.stdout, /warnings:\n {2}- 3 servers but only 2 ready/);
  const j = await muster(["--ca-file", CA, "-o", "json", "status"]);
  t.same(JSON.parse(j.stdout), CLUSTER);
  t.equal(api.seen.at(-1)?.auth, `Bearer ${ADMIN_TOKEN}`);
});

t.test("nodes: a table, or the API's JSON", async (t) => {
  const r = await muster(["nodes", "--ca-file", CA]);
  t.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split("\n");
  t.match(lines[0], /^NAME +ROLE +STATE +ADDRESS +JOINED +MESSAGE$/);
  t.match(lines[1], /^s1 +server \(init\) +joined +10\.0\.0\.11 +2030-01-01 00:01$/);
  t.match(lines[2], /^a1 +agent +check-failed +10\.0\.0\.21 +- +swap is on: run swapoff -a$/);
  const j = await muster(["nodes", "--ca-file", CA, "--output=json"]);
  t.same(JSON.parse(j.stdout), { nodes: NODES });
});

t.test("join-command prints exactly the API's one-liner on stdout", async (t) => {
  const r = await muster(["join-command", "--role", "agent", "--ttl", "3600", "--ca-file", CA]);
  t.equal(r.code, 0, r.stderr);
  t.equal(
    r.stdout,
    `curl -fsSL -k --pinnedpubkey '${tls.pin}' https://127.0.0.1:9443/v1/bootstrap.sh | sudo sh -s - --token abcdef.0123456789abcdef`,
  );
  t.same(api.seen.at(-1)?.body, { role: "agent", ttlSeconds: 3600 });
  t.match(r.stderr, /join token abcdef \(agent\) expires 2030-01-02/);
  for (const [argv, message] of [
    [["join-command"], /--role is required/],
    [["join-command", "--role", "master"], /--role: must be server or agent, got master/],
    [["join-command", "--role", "server", "--ttl", "10"], /--ttl: must be a whole number from 60/],
    [["join-command", "--role", "server", "--ttl", "1h"], /--ttl: .*got 1h/],
    [["join-command", "--role"], /--role needs a value/],
  ] as const) {
    const bad = await muster([...argv]);
    t.equal(bad.code, 2, argv.join(" "));
    t.match(bad.stderr, message);
    t.equal(bad.stderr.split("\n").length, 1, "one line");
  }
});

t.test("retry, plan and events", async (t) => {
  const retry = await muster(["retry", "a1", "--ca-file", CA]);
  t.equal(retry.code, 0, retry.stderr);
  t.equal(retry.stdout, "node a1 re-queued (state checking)");
  t.equal(api.seen.at(-1)?.url, "/v1/nodes/a1/retry");
  const missing = await muster(["retry", "zz", "--ca-file", CA]);
  t.equal(missing.code, 1);
  t.equal(missing.stderr, "muster: No node named zz");
  t.equal((await muster(["retry", "--ca-file", CA])).code, 2);
  t.equal((await muster(["retry", "Bad_Name", "--ca-file", CA])).code, 2);

  const plan = await muster(["plan", "--ca-file", CA]);
  t.equal(plan.stdout, " 1. s3 (server) running: joining: waiting for etcd to promote it");

  const events = await muster(["events", "--ca-file", CA]);
  t.equal(events.code, 0, events.stderr);
  t.equal(
    events.stdout,
    "2030-01-01T00:01:00.000Z  node.enrolled  n1  n1 enrolled\n2030-01-01T00:02:00.000Z  node.enrolled  n2  n2 enrolled",
  );
  const after = await muster(["events", "--after", "2", "-o", "json", "--ca-file", CA]);
  t.same(JSON.parse(after.stdout), EVENTS[2]);
  // Stop following once it asks beyond the second page (after=3): by then it printed both pages.
  const controller = new AbortController();
  const from = api.seen.length;
  const deadline = Date.now() + 30_000;
  const stopper = setInterval(() => {
    const asked = api.seen.slice(from).some((r) => /[?&]after=3\b/.test(r.url));
    if (asked || Date.now() > deadline) {
      clearInterval(stopper);
      controller.abort();
    }
  }, 10);
  const follow = await muster(["events", "--follow", "--ca-file", CA], {}, { signal: controller.signal });
  t.equal(follow.code, 0);
  t.equal(follow.stdout.split("\n").length, 3, "follow fetched the page beyond the first");
});

t.test("auth: missing or wrong token is the server's 401 message, exit 1", async (t) => {
  const r = await muster(["status", "--ca-file", CA], { MUSTER_TOKEN: "wrong" });
  t.equal(r.code, 1);
  t.equal(r.stderr, "muster: Missing or invalid credentials (check MUSTER_TOKEN or --token-file)");
});

t.test("token file: used when 0600, refused when group/world-readable", async (t) => {
  const file = path.join(dir, "token");
  writeFileSync(file, `${ADMIN_TOKEN}\n`);
  chmodSync(file, 0o600);
  const ok = await muster(["status", "--ca-file", CA, "--token-file", file], { MUSTER_TOKEN: "" });
  t.equal(ok.code, 0, ok.stderr);
  chmodSync(file, 0o644);
  const before = api.seen.length;
  const bad = await muster(["status", "--ca-file", CA, "--token-file", file]);
  t.equal(bad.code, 2);
  t.match(bad.stderr, /readable by group or others \(mode 0644\): chmod 600/);
  t.equal(api.seen.length, before, "nothing sent");
  const gone = await muster(["status", "--token-file", path.join(dir, "nope")]);
  t.equal(gone.code, 2);
  t.match(gone.stderr, /cannot read the token file .*nope: it does not exist; pass --token-file FILE/);
  t.notMatch(gone.stderr, /ENOENT/, "no bare system code");
  const noCa = await muster(["status", "--ca-file", path.join(dir, "no-ca.crt")]);
  t.equal(noCa.code, 2);
  t.match(noCa.stderr, /cannot read the CA file .*no-ca\.crt: it does not exist; pass --ca-file FILE/);
});

t.test("env only: MUSTER_TOKEN_FILE and MUSTER_CA_FILE (or MUSTER_PIN) need no flags", async (t) => {
  const file = path.join(dir, "env-token");
  writeFileSync(file, `${ADMIN_TOKEN}\n`);
  chmodSync(file, 0o600);
  const viaCa = await muster(["status"], { MUSTER_TOKEN: "", MUSTER_TOKEN_FILE: file, MUSTER_CA_FILE: CA });
  t.equal(viaCa.code, 0, viaCa.stderr);
  const viaPin = await muster(["nodes"], { MUSTER_TOKEN: "", MUSTER_TOKEN_FILE: file, MUSTER_PIN: tls.pin });
  t.equal(viaPin.code, 0, viaPin.stderr);
  const noCa = await muster(["status"], { MUSTER_TOKEN: "", MUSTER_TOKEN_FILE: file });
  t.equal(noCa.code, 1, "without MUSTER_CA_FILE the coordinator's certificate is not trusted");
  chmodSync(file, 0o644);
  const before = api.seen.length;
  const open = await muster(["status"], { MUSTER_TOKEN: "", MUSTER_TOKEN_FILE: file, MUSTER_CA_FILE: CA });
  t.equal(open.code, 2);
  t.match(open.stderr, /readable by group or others/);
  t.equal(api.seen.length, before, "nothing sent");
});

t.test("TLS: the pin must match before anything is sent; no CA means no connection", async (t) => {
  const pinned = await muster(["status", "--pin", tls.pin]);
  t.equal(pinned.code, 0, pinned.stderr);
  const viaEnv = await muster(["nodes"], { MUSTER_PIN: tls.pin });
  t.equal(viaEnv.code, 0, viaEnv.stderr);
  const before = api.seen.length;
  const wrong = await muster(["status", "--pin", WRONG_PIN]);
  t.equal(wrong.code, 1);
  t.match(wrong.stderr, /does not match --pin .*refusing/);
  const untrusted = await muster(["status"]);
  t.equal(untrusted.code, 1);
  t.match(untrusted.stderr, /cannot verify the coordinator's certificate .*--ca-file/);
  t.equal(api.seen.length, before, "the admin token never left for an untrusted server");
  t.equal((await muster(["status", "--pin", tls.pin, "--ca-file", CA])).code, 2);
});

t.test("bad command lines: one line naming the problem, exit 2", async (t) => {
  for (const [argv, message] of [
    [["nodes", "--bogus"], /^muster: unknown flag --bogus$/],
    [["--bogus", "nodes"], /^muster: unknown flag --bogus$/],
    [["frobnicate"], /^muster: unknown command frobnicate/],
    [["nodes", "-o", "yaml"], /^muster: -o\/--output: must be text or json, got yaml$/],
    [["nodes", "extra"], /^muster: unexpected argument extra$/],
    [["status", "--server", "http://x:9443"], /^muster: --server: must be an https:\/\/ URL/],
    [["status", "--follow"], /^muster: unknown flag --follow$/],
  ] as const) {
    const r = await muster([...argv]);
    t.equal(r.code, 2, argv.join(" "));
    t.match(r.stderr, message);
  }
  t.equal((await muster([])).code, 2, "no command: usage on stderr");
});

t.test("--help everywhere, on stdout, exit 0", async (t) => {
  const top = await muster(["--help"]);
  t.equal(top.code, 0);
  t.match(top.stdout, /Usage: muster <command>/);
  for (const cmd of ["status", "nodes", "join-command", "retry", "plan", "events", "upgrade"]) {
    const r = await muster([cmd, "--help"]);
    t.equal(r.code, 0, cmd);
    t.match(r.stdout, `Usage: muster ${cmd}`);
    t.match(r.stdout, /--server URL/);
  }
  t.match((await muster(["help", "events"])).stdout, /--follow/);
});

t.test("an answer that breaks the schema is reported, not printed", async (t) => {
  api.state.brokenCluster = true;
  t.teardown(() => {
    api.state.brokenCluster = false;
  });
  const r = await muster(["status", "--ca-file", CA]);
  t.equal(r.code, 1);
  t.match(
    r.stderr,
    /the coordinator.s answer is not what this CLI expects \(phase.*another muster version than this CLI/,
  );
});

t.test("the muster bin: exit codes reach the shell", async (t) => {
  const bin = path.resolve(import.meta.dirname, "../../packages/cli/src/bin.ts");
  const run = (args: string[]) =>
    promisify(execFile)(process.execPath, [bin, ...args], {
      env: { ...process.env, MUSTER_SERVER: api.url, MUSTER_TOKEN: ADMIN_TOKEN },
    }).then(
      (r) => ({ code: 0, ...r }),
      (e: { code: number; stdout: string; stderr: string }) => e,
    );
  const ok = await run(["nodes", "--ca-file", CA, "-o", "json"]);
  t.equal(ok.code, 0, ok.stderr);
  t.same(JSON.parse(ok.stdout), { nodes: NODES });
  t.equal((await run(["nodes", "--nope"])).code, 2);
  t.equal((await run(["nodes", "--pin", WRONG_PIN])).code, 1);
});
