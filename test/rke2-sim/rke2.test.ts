// The RKE2 simulator on loopback: a real etcd per server, joins as learner then voter, the etcd error
// two uncoordinated joins really produce, agents, auth rules and the token format (docs/rke2-behaviour.md).
import { execFile } from "node:child_process";
import { lstatSync, mkdtempSync, readlinkSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { readMembership } from "@muster/rke2-sim";
import { nodeBinary, SIM_DIR } from "@muster/rke2-sim/paths";
import { caHash } from "@muster/rke2-sim/rke2/token";
import t from "tap";
import { commandExists, GiveUp, get, isRoot, SimNode, waitFor } from "./testkit.ts";

const run = promisify(execFile);

if (!commandExists("etcd") || !commandExists("etcdctl")) {
  t.plan(0, "etcd/etcdctl not installed (Debian etcd-server, etcd-client)");
} else {
  const root = mkdtempSync(path.join(tmpdir(), "rke2-sim-test-"));
  const nodes: SimNode[] = [];
  const start = (spec: ConstructorParameters<typeof SimNode>[1]) => {
    const n = new SimNode(root, spec);
    nodes.push(n);
    return n;
  };
  t.teardown(() => {
    for (const n of nodes) n.kill();
    rmSync(root, { recursive: true, force: true });
  });

  const PASSWORD = "sim-test-password-0123";
  const ip = (i: number) => `127.87.1.${i}`;
  const etcdOf = (i: number) => `http://${ip(i)}:2379`;
  const slowPromotion = { RKE2_SIM_PROMOTE_INTERVAL: "3" };
  const n1 = start({
    role: "server",
    name: "n1",
    ip: ip(1),
    config: { token: PASSWORD, "tls-san": ["vip.example.test"] },
    env: slowPromotion,
  });
  let ca = "";
  let token = "";
  const ready = async (n: SimNode) => {
    await waitFor(`${n.spec.name} ready`, async () => {
      if (n.exitCode !== undefined) throw new GiveUp(`${n.spec.name} exited ${n.exitCode}:\n${n.log()}`);
      if (!n.log().includes("is up and running")) return false; // READY=1 is sent right after this line
      return (await get(`https://${n.spec.ip}:6443/readyz`, { ca })).body === "ok";
    });
  };
  /** Like systemd's Restart=always with RestartSec=5s: run the node again until it comes up. */
  const keepRestarting = async (spec: ConstructorParameters<typeof SimNode>[1], attempts = 6) => {
    for (let i = 1; ; i++) {
      const n = start(spec);
      const up = await Promise.race([ready(n).then(() => true), n.exited.then(() => false)]).catch(
        () => false,
      );
      if (up) return { node: n, attempts: i };
      if (i >= attempts) throw new Error(`${spec.name} did not come up after ${i} attempts:\n${n.log()}`);
      await new Promise((r) => setTimeout(r, 5000));
    }
  };

  t.test("rke2 --version reports the release like real rke2", async (t) => {
    const { stdout } = await run(nodeBinary(), [path.join(SIM_DIR, "rke2.ts"), "--version"], {
      env: { ...process.env, RKE2_SIM_VERSION: "v1.33.5+rke2r1", RKE2_SIM_COMMIT: "abc123" },
    });
    t.match(stdout, /^rke2 version v1\.33\.5\+rke2r1 \(abc123\)\n/);
  });

  t.test("init server comes up with a pinned token and the auth rules", async (t) => {
    const cacerts = await waitFor(
      "n1 /cacerts",
      async () => (await get(`https://${ip(1)}:9345/cacerts`)).body || null,
    );
    ca = cacerts;
    t.equal(
      (await get(`https://${ip(1)}:9345/ping`, { ca })).body,
      "pong",
      "/ping answers pong over verified TLS",
    );
    await ready(n1);
    token = n1.token();
    t.equal(
      token,
      `K10${caHash(cacerts)}::server:${PASSWORD}`,
      "token = K10<sha256 of /cacerts>::server:<password>",
    );
    const tokenFile = path.join(n1.dataDir, "server", "token");
    t.equal(statSync(tokenFile).mode & 0o777, 0o600, "token file is 0600");
    const nodeToken = path.join(n1.dataDir, "server", "node-token");
    t.ok(lstatSync(nodeToken).isSymbolicLink(), "node-token is a symlink");
    t.equal(readlinkSync(nodeToken), "token");

    const as = (user: string, password: string, p: string) =>
      get(`https://${ip(1)}:9345${p}`, { ca, user, password });
    t.equal((await as("node", PASSWORD, "/v1-rke2/readyz")).status, 200, "node:<pw> may read readyz");
    t.equal((await as("server", PASSWORD, "/v1-rke2/readyz")).body, "ok");
    t.equal((await as("node", "wrong", "/v1-rke2/readyz")).status, 401, "wrong password -> 401");
    t.equal((await get(`https://${ip(1)}:9345/v1-rke2/config`, { ca })).status, 401, "no credentials -> 401");
    t.equal(
      (await as("node", PASSWORD, "/v1-rke2/server-bootstrap")).status,
      403,
      "node role on a server path -> 403",
    );
    t.equal((await as("server", PASSWORD, "/v1-rke2/server-bootstrap")).status, 200);
    // 127/8 is loopback, where /db/info is open (k3s IsLocalOrHasRole), so only the role rule off
    // loopback cannot be shown here; server-bootstrap above shows the 403 path.
    t.equal((await get(`https://${ip(1)}:9345/db/info`, { ca })).status, 200, "/db/info is open to loopback");
    const info = JSON.parse((await as("server", PASSWORD, "/db/info")).body) as {
      members: { name: string }[];
    };
    t.same(
      info.members.map((m) => m.name),
      ["n1"],
    );
    t.notMatch(n1.log(), PASSWORD, "the log never shows the password");
  });

  t.test("a joining server is added as a learner, promoted, then ready", async (t) => {
    const n2 = start({
      role: "server",
      name: "n2",
      ip: ip(2),
      config: { server: `https://${ip(1)}:9345`, token },
      // Whichever of n1 and n2 leads etcd promotes learners; both slowly, so that in the negative
      // control below the first joiner is still a learner when the second one's add arrives.
      env: slowPromotion,
    });
    const seen = new Set<string>();
    await waitFor(
      "n2 ready",
      async () => {
        const m = (await readMembership(etcdOf(1)).catch(() => [])).find(
          (x) => x.name === "n2" || x.peerURLs[0]?.includes(ip(2)),
        );
        if (m) seen.add(m.isLearner ? "learner" : "voter");
        if (n2.exitCode !== undefined) throw new GiveUp(`n2 exited ${n2.exitCode}:\n${n2.log()}`);
        return (await get(`https://${ip(2)}:6443/readyz`, { ca })).body === "ok";
      },
      60_000,
      100,
    );
    t.match(
      n2.log(),
      /Adding member n2=http:\/\/127\.87\.1\.2:2380/,
      "n2 added itself with etcdctl member add --learner",
    );
    t.match(
      n1.log(),
      /Promoted learner n2 [0-9a-f]+ to voting member/,
      "the etcd leader promoted the learner",
    );
    t.comment(`membership states observed while joining: ${[...seen].join(", ")}`);
    const members = await readMembership(etcdOf(1));
    t.same(
      members.map((m) => [m.name, m.isLearner]).sort(),
      [
        ["n1", false],
        ["n2", false],
      ],
      "both vote",
    );
    await ready(n2);
    t.pass("n2 reported ready (READY=1 point)");
  });

  t.test("negative control: two uncoordinated joins -> too many learner members", async (t) => {
    const spec = (i: number, env: Record<string, string> = {}) => ({
      role: "server" as const,
      name: `n${i}`,
      ip: ip(i),
      config: { server: `https://${ip(1)}:9345`, token },
      env,
    });
    // etcd's strict reconfiguration check refuses *any* member add until every voter has been
    // connected for 5 s ("etcdserver: unhealthy cluster"): wait until n2 has voted that long.
    const promoted = /time="([^"]+)" level=info msg="Promoted learner n2 /.exec(n1.log());
    const since = promoted ? Date.now() - Date.parse(promoted[1]!) : 0;
    await new Promise((r) => setTimeout(r, Math.max(0, 7000 - since)));
    // Both joiners reach `member add` at the same uptime (half of RKE2_SIM_JOIN_SECONDS), so however
    // slowly the machine starts them, the second add lands while the first learner still waits for
    // its etcd to start: the refusal is etcd's, every run.
    const race = { RKE2_SIM_JOIN_SECONDS: "12" };
    const [a, b] = [start(spec(3, race)), start(spec(4, race))];
    const first = await Promise.race([
      a.exited.then(() => a),
      b.exited.then(() => b),
      new Promise<null>((r) => setTimeout(() => r(null), 60_000)),
    ]);
    if (!first) return t.fail("neither concurrent joiner failed");
    t.equal(first.exitCode, 1, `${first.spec.name} exits non-zero`);
    // etcd refuses the second learner outright, or (seen in CI, 2 runs of 3 on 2026-12-02) leaves the
    // add unanswered until RKE2's 30 s join deadline; either way the uncoordinated joiner dies.
    t.match(
      first.log(),
      /level=fatal msg="etcd cluster join failed: (etcdserver: too many learner members in cluster|context deadline exceeded)"/,
    );
    const winner = first === a ? b : a;
    await ready(winner);
    // What systemd's Restart=always does next: run it again (same data dir) until the join succeeds.
    const again = await keepRestarting({ ...first.spec, env: {} });
    t.comment(`${first.spec.name} joined after ${again.attempts} restart(s)`);
    const names = (await readMembership(etcdOf(1))).map((m) => m.name).sort();
    t.same(names, ["n1", "n2", "n3", "n4"], "after the restart both joined");
  });

  t.test("join refusals: critical config, CA pin, duplicate name", async (t) => {
    const base = { server: `https://${ip(1)}:9345`, token };
    const mismatch = start({
      role: "server",
      name: "n5",
      ip: ip(5),
      config: { ...base, "cluster-cidr": "10.99.0.0/16" },
    });
    t.equal(await mismatch.exited, 1);
    t.match(mismatch.log(), /critical configuration value mismatch between servers: cluster-cidr/);
    const wrongHash = token.replace(/^K10[0-9a-f]{4}/, "K100000");
    const pinned = start({ role: "server", name: "n6", ip: ip(6), config: { ...base, token: wrongHash } });
    t.equal(await pinned.exited, 1);
    t.match(pinned.log(), /token CA hash does not match the Cluster CA certificate hash/);
    const dup = start({ role: "server", name: "n2", dir: "n2-duplicate", ip: ip(7), config: base });
    t.equal(await dup.exited, 1);
    t.match(dup.log(), /duplicate node name found, please use a unique name for this node/);
  });

  t.test("an agent registers and shows up in /api/v1/nodes", async (t) => {
    const agent = start({
      role: "agent",
      name: "a1",
      ip: ip(10),
      config: { server: `https://${ip(1)}:9345`, token },
    });
    await waitFor("a1 kubelet healthz", async () => {
      if (agent.exitCode !== undefined) throw new GiveUp(`a1 exited:\n${agent.log()}`);
      return (await fetch(`http://${ip(10)}:10248/healthz`)).ok;
    });
    const list = await waitFor("a1 in /api/v1/nodes", async () => {
      const body = JSON.parse((await get(`https://${ip(1)}:6443/api/v1/nodes`, { ca })).body);
      return body.items.some((n: { metadata: { name: string } }) => n.metadata.name === "a1") ? body : null;
    });
    t.equal(list.kind, "NodeList");
    const a1 = list.items.find((n: { metadata: { name: string } }) => n.metadata.name === "a1");
    t.same(a1.status.conditions[0].status, "True", "agent node is Ready");
    t.same(a1.status.addresses[0], { type: "InternalIP", address: ip(10) });
    t.notOk(
      a1.metadata.labels["node-role.kubernetes.io/control-plane"],
      "agents carry no control-plane role",
    );
  });

  t.test("restarting a joined server is idempotent", async (t) => {
    const n2 = nodes.find((n) => n.spec.name === "n2" && n.exitCode === undefined)!;
    n2.kill();
    await n2.exited;
    const before = (await readMembership(etcdOf(1))).length;
    const again = start(n2.spec);
    await ready(again);
    t.match(again.log(), /etcd data already present/);
    t.equal((await readMembership(etcdOf(1))).length, before, "no second member add");
  });

  t.test(
    "rke2-killall.sh stops exactly this node's processes",
    { skip: !isRoot() && "needs root" },
    async (t) => {
      const n2 = nodes.filter((n) => n.spec.name === "n2" && n.spec.dir === undefined).at(-1)!;
      const state = path.join(root, "systemctl-state");
      const env = {
        ...process.env,
        RKE2_DATA_DIR: n2.dataDir,
        SYSTEMCTL_SIM_STATE_DIR: state,
        PATH: `${SIM_DIR}:${process.env["PATH"]}`,
      };
      await run("sh", [path.join(SIM_DIR, "bundle/bin/rke2-killall.sh")], { env });
      t.equal(await n2.exited, null, "n2's rke2 was killed (by signal)");
      await waitFor(
        "n2 etcd gone",
        async () =>
          !(await fetch(`http://${ip(2)}:2381/health`).then(
            () => true,
            () => false,
          )),
      );
      t.equal(n1.exitCode, undefined, "n1's rke2 still runs");
      t.equal((await get(`https://${ip(1)}:9345/ping`, { ca })).body, "pong", "n1 still answers");
    },
  );
}
