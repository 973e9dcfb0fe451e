// The etcd.* handlers against real etcd (Debian etcd-server): a 3-member cluster on loopback
// addresses for status, leadership moves (from a follower and from the leader) and member removal,
// cross-checked with etcdctl's own view; and a one-member etcd with client-certificate TLS laid out
// as RKE2 lays it out. Run under the heavy lock: flock /tmp/muster-heavy.lock npx tap <this file>.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import https from "node:https";
import net, { type AddressInfo } from "node:net";
import path from "node:path";
import { createEtcdClient, ETCD_TLS } from "@muster/agent/adapters/etcd";
import { createFiles } from "@muster/agent/adapters/files";
import { etcdMemberRemove, etcdMoveLeader, etcdStatus } from "@muster/agent/tasks/handlers/etcd";
import type { TaskContext } from "@muster/agent/tasks/types";
import { TaskResultSchemas } from "@muster/shared";
import t, { type Test } from "tap";
import { taskContext } from "../../helpers/task-context.ts";

const ETCD = "/usr/bin/etcd";
const ETCDCTL = "/usr/bin/etcdctl";
const haveEtcd = existsSync(ETCD) && existsSync(ETCDCTL);

async function freePort(host: string): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, host, r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

interface Member {
  name: string;
  ip: string;
  clientPort: number;
  peerPort: number;
  clientURL: string;
  peerURL: string;
  child?: ChildProcess;
}

function startEtcd(t: Test, m: Member, dataDir: string, cluster: string, extra: string[] = []): ChildProcess {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const child = spawn(
    ETCD,
    [
      `--name=${m.name}`,
      `--data-dir=${dataDir}`,
      `--listen-client-urls=${m.clientURL}`,
      `--advertise-client-urls=${m.clientURL}`,
      `--listen-peer-urls=${m.peerURL}`,
      `--initial-advertise-peer-urls=${m.peerURL}`,
      `--initial-cluster=${cluster}`,
      "--initial-cluster-state=new",
      "--initial-cluster-token=muster-test",
      "--heartbeat-interval=100",
      "--election-timeout=1000",
      ...extra,
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let log = "";
  child.stderr!.on("data", (d) => {
    log = (log + String(d)).slice(-20_000);
  });
  t.teardown(() => {
    if (child.exitCode === null) child.kill("SIGKILL");
  });
  child.on("exit", (code) => {
    if (code !== 0 && code !== null) t.comment(`etcd ${m.name} exited ${code}: ${log.slice(-2000)}`);
  });
  return child;
}

/** Polls with a deadline until `fn` returns a value (not null), or fails the test. */
async function eventually<T>(what: string, timeoutMs: number, fn: () => Promise<T | null>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v !== null) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ""}`);
}

/** The agent's view from one member's node: its files root and its local endpoint. */
function agentOn(root: string, m: Member): TaskContext {
  const files = createFiles(root);
  const etcd = createEtcdClient(files, { local: { host: m.ip, port: m.clientPort } });
  return taskContext(root, { etcd }).ctx;
}

const status = (ctx: TaskContext) => etcdStatus({ kind: "etcd.status" }, ctx);

/** etcdctl's member list (hex ids, as etcdctl prints them): an independent check of our ids. */
function etcdctlMembers(endpoint: string): Map<string, string> {
  const out = execFileSync(ETCDCTL, [`--endpoints=${endpoint}`, "member", "list"], {
    encoding: "utf8",
    env: { ...process.env, ETCDCTL_API: "3" },
  });
  // "8e9e05c52164694d, started, server-1, http://127.88.0.1:2380, http://127.88.0.1:2379, false"
  return new Map(
    out
      .trim()
      .split("\n")
      .map((l) => l.split(", "))
      .map((f) => [f[2]!, f[0]!]),
  );
}

t.test(
  "etcd.* handlers on a real 3-member etcd cluster",
  { skip: !haveEtcd && "needs Debian's etcd-server and etcd-client" },
  async (t) => {
    const root = t.testdir();
    const members: Member[] = [];
    for (const [i, ip] of ["127.88.0.1", "127.88.0.2", "127.88.0.3"].entries()) {
      const clientPort = await freePort(ip);
      const peerPort = await freePort(ip);
      members.push({
        name: `server-${i + 1}`,
        ip,
        clientPort,
        peerPort,
        clientURL: `http://${ip}:${clientPort}`,
        peerURL: `http://${ip}:${peerPort}`,
      });
    }
    const cluster = members.map((m) => `${m.name}=${m.peerURL}`).join(",");
    for (const m of members) m.child = startEtcd(t, m, path.join(root, "data", m.name), cluster);
    const agents = members.map((m) => agentOn(root, m));

    // Every member's agent sees the same three members and the same leader, and itself as local.
    const views = await Promise.all(
      agents.map((ctx) =>
        eventually("a leader", 30_000, async () => ((await status(ctx)).leaderId ? status(ctx) : null)),
      ),
    );
    const byName = etcdctlMembers(members[0]!.clientURL);
    for (const [i, v] of views.entries()) {
      t.ok(TaskResultSchemas["etcd.status"].safeParse(v).success, "schema-valid");
      t.equal(v.members.length, 3);
      t.equal(v.localId, byName.get(members[i]!.name), `${members[i]!.name}'s id is etcdctl's hex id`);
      t.ok(
        v.members.every((m) => m.healthy),
        `${members[i]!.name} sees every member answer with a leader`,
      );
    }
    t.same(
      Object.fromEntries(views[0]!.members.map((m) => [m.name, m.id])),
      Object.fromEntries(byName),
      "every member id matches etcdctl",
    );
    t.same(views[0]!.members.find((m) => m.name === "server-2")!.clientURLs, [members[1]!.clientURL]);
    await eventually("one leader for all", 10_000, async () => {
      const leaders = new Set((await Promise.all(agents.map(status))).map((v) => v.leaderId));
      return leaders.size === 1 ? true : null;
    });

    const idOf = (name: string) => byName.get(name)!;
    const current = async () => (await status(agents[0]!)).leaderId!;
    const leader = await current();
    const followers = members.filter((m) => idOf(m.name) !== leader);
    const [f1, f2] = [followers[0]!, followers[1]!];

    // From a follower's node: the handler must find the leader's URL (etcd refuses it elsewhere).
    const onFollower = agents[members.indexOf(f1)]!;
    t.same(await etcdMoveLeader({ kind: "etcd.move-leader", toId: idOf(f2.name) }, onFollower), {});
    t.equal(await current(), idOf(f2.name), `${f2.name} leads after a move requested on ${f1.name}`);

    // Negative control: the same gateway call sent to a follower is refused by etcd itself.
    const conn = await onFollower.host.etcd.connect();
    await t.rejects(conn.moveLeader(idOf(f1.name)), { name: "EtcdError", message: /not leader/ });

    // From the leader's own node, back to the first follower.
    const onLeader = agents[members.indexOf(f2)]!;
    await etcdMoveLeader({ kind: "etcd.move-leader", toId: idOf(f1.name) }, onLeader);
    t.equal(await current(), idOf(f1.name));
    t.same(
      await etcdMoveLeader({ kind: "etcd.move-leader", toId: idOf(f1.name) }, onFollower),
      {},
      "already leader",
    );

    // Remove the member that is not leading, asked of the leader's agent; then again (already gone).
    const removed = members.find((m) => idOf(m.name) !== idOf(f1.name) && m !== f1)!;
    const asker = agents[members.indexOf(f1)]!;
    t.same(await etcdMemberRemove({ kind: "etcd.member-remove", id: idOf(removed.name) }, asker), {});
    const after = await status(asker);
    t.same(
      after.members.map((m) => m.name).sort(),
      members.filter((m) => m !== removed).map((m) => m.name),
    );
    t.notOk(etcdctlMembers(f1.clientURL).has(removed.name), "etcdctl agrees it is gone");
    t.same(
      await etcdMemberRemove({ kind: "etcd.member-remove", id: idOf(removed.name) }, asker),
      {},
      "idempotent",
    );
    await t.rejects(etcdMemberRemove({ kind: "etcd.member-remove", id: idOf(f1.name) }, asker), {
      message: /it is this node's own etcd member/,
    });
    await eventually("the removed member to exit", 15_000, async () =>
      removed.child!.exitCode !== null ? true : null,
    );

    // The last other member dies: it stops answering, and f1 (1 of 2) loses its leader, so etcd's
    // health view marks both unhealthy, which the coordinator's quorum guard reads as "no quorum".
    const other = members.find((m) => m !== removed && m !== f1)!;
    other.child!.kill("SIGKILL");
    const lost = await eventually("f1 to lose its leader", 30_000, async () => {
      const v = await status(asker);
      return v.leaderId === null ? v : null;
    });
    t.same(
      lost.members.map((m) => [m.name, m.healthy]).sort(),
      [
        [f1.name, false],
        [other.name, false],
      ].sort(),
      "no member healthy without quorum",
    );
  },
);

function openssl(args: string[], cwd: string) {
  execFileSync("openssl", args, { cwd, stdio: "ignore" });
}

/** An etcd CA and one server-client certificate, as RKE2's server/tls/etcd/ holds them. */
function etcdPki(dir: string, ip: string) {
  mkdirSync(dir, { recursive: true });
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  openssl(
    [
      "req",
      "-x509",
      ...ec,
      "-keyout",
      "ca.key",
      "-out",
      "server-ca.crt",
      "-days",
      "1",
      "-subj",
      "/CN=etcd-server-ca",
    ],
    dir,
  );
  openssl(["req", ...ec, "-keyout", "server-client.key", "-out", "sc.csr", "-subj", "/CN=etcd-server"], dir);
  writeFileSync(
    path.join(dir, "ext.cnf"),
    `subjectAltName=IP:${ip},IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n`,
  );
  openssl(
    ["x509", "-req", "-in", "sc.csr", "-CA", "server-ca.crt", "-CAkey", "ca.key", "-CAcreateserial"].concat([
      "-out",
      "server-client.crt",
      "-days",
      "1",
      "-extfile",
      "ext.cnf",
    ]),
    dir,
  );
}

t.test(
  "etcd.status over client-certificate TLS with RKE2's file layout",
  { skip: !haveEtcd && "needs Debian's etcd-server" },
  async (t) => {
    const root = t.testdir();
    const ip = "127.88.0.9";
    const tlsDir = path.join(root, path.dirname(ETCD_TLS.cert));
    etcdPki(tlsDir, ip);
    const clientPort = await freePort(ip);
    const peerPort = await freePort(ip);
    const m: Member = {
      name: "server-1",
      ip,
      clientPort,
      peerPort,
      clientURL: `https://${ip}:${clientPort}`,
      peerURL: `http://${ip}:${peerPort}`,
    };
    const pem = (f: string) => path.join(tlsDir, f);
    startEtcd(t, m, path.join(root, "data"), `${m.name}=${m.peerURL}`, [
      `--cert-file=${pem("server-client.crt")}`,
      `--key-file=${pem("server-client.key")}`,
      `--trusted-ca-file=${pem("server-ca.crt")}`,
      "--client-cert-auth",
    ]);
    const ctx = agentOn(root, m);
    const v = await eventually("TLS etcd", 30_000, async () => {
      const s = await status(ctx);
      return s.leaderId ? s : null;
    });
    t.equal(v.members.length, 1);
    t.equal(v.leaderId, v.localId, "a single member leads itself");
    t.same(v.members[0]!.clientURLs, [m.clientURL]);
    t.equal(
      (await ctx.host.etcd.connect()).local,
      m.clientURL,
      "https because the client certificate is there",
    );

    // Negative controls: without a client certificate etcd refuses the handshake; over plain http
    // the TLS port answers nothing usable. Both show the certificate is what gets us in.
    const noCert = await new Promise<string>((resolve) => {
      const req = https.request(
        `${m.clientURL}/v3/maintenance/status`,
        { method: "POST", ca: readFileSync(pem("server-ca.crt")), timeout: 5000 },
        (res) => {
          res.resume();
          resolve(`HTTP ${res.statusCode}`);
        },
      );
      req.on("error", (e) => resolve(`error: ${e.message}`));
      req.end("{}");
    });
    t.match(noCert, /^error: /, `no client certificate: ${noCert}`);
    const plain = agentOn(t.testdir(), { ...m, clientURL: `http://${ip}:${clientPort}` });
    await t.rejects(status(plain), { message: /could not report its status/ });
  },
);
