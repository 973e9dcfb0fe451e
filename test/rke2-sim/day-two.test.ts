// Day-two behaviour of the simulated RKE2 on a 3-server cluster with an agent-token (issues: day two,
// least privilege): the agent token joins agents only; a stale node-password secret blocks a machine
// re-joining under a name until it is deleted; the etcd member controller (Node deletion, the remove
// annotation); a removed server refused on its old data dir and joining again once server/db is
// wiped; etcdctl move-leader against the simulator's etcd.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { readMembership } from "@muster/rke2-sim";
import t from "tap";
import { commandExists, get, removeUnlessFailed, SimNode, startJoined, waitFor, whenUp } from "./testkit.ts";

const run = promisify(execFile);

if (!commandExists("etcd") || !commandExists("etcdctl")) {
  t.plan(0, "etcd/etcdctl not installed (Debian etcd-server, etcd-client)");
} else {
  const root = mkdtempSync(path.join(tmpdir(), "rke2-sim-day2-"));
  const nodes: SimNode[] = [];
  const start = (spec: ConstructorParameters<typeof SimNode>[1]) => {
    const n = new SimNode(root, spec);
    nodes.push(n);
    return n;
  };
  t.teardown(() => {
    for (const n of nodes) n.kill();
    removeUnlessFailed(t, root);
  });
  const ip = (i: number) => `127.87.4.${i}`;
  const etcdOf = (i: number) => `http://${ip(i)}:2379`;
  const PASSWORD = "day-two-server-pw-0001";
  const AGENT = "day-two-agent-pw-0002";
  const latest = (name: string) => nodes.filter((n) => n.spec.name === name).at(-1)!;
  const d1 = start({
    role: "server",
    name: "d1",
    ip: ip(1),
    config: { token: PASSWORD, "agent-token": AGENT },
  });
  let serverToken = "";
  let agentToken = "";
  const serverSpec = (name: string, i: number, extra: Record<string, unknown> = {}) => ({
    role: "server" as const,
    name,
    ip: ip(i),
    config: { server: `https://${ip(1)}:9345`, token: serverToken, "agent-token": AGENT, ...extra },
  });
  const names = async () =>
    (await readMembership(etcdOf(1))).map((m) => `${m.name}${m.isLearner ? "(learner)" : ""}`).sort();
  const node = async (name: string) => {
    const r = await d1.kubectl("get", "node", name, "-o", "json");
    return r.code === 0 ? JSON.parse(r.stdout) : null;
  };

  t.test("three servers and an agent that holds only the agent token", async (t) => {
    await whenUp(d1);
    serverToken = d1.token();
    agentToken = readFileSync(path.join(d1.dataDir, "server", "agent-token"), "utf8").trim();
    t.match(
      agentToken,
      /^K10[0-9a-f]{64}::node:day-two-agent-pw-0002$/,
      "server/agent-token is K10<hash>::node:<agent-token>",
    );
    for (const [name, i] of [
      ["d2", 2],
      ["d3", 3],
    ] as const)
      await startJoined(start, serverSpec(name, i));
    const da = start({
      role: "agent",
      name: "da",
      ip: ip(10),
      config: { server: `https://${ip(1)}:9345`, token: agentToken },
    });
    await waitFor("da registered", async () => (await node("da")) !== null);
    t.same(await names(), ["d1", "d2", "d3"]);
    t.ok(da, "agent joined with the agent token");
  });

  t.test("the agent token authenticates as rke2:agent only", async (t) => {
    const ca = (await get(`https://${ip(1)}:9345/cacerts`)).body;
    const as = (p: string) => get(`https://${ip(1)}:9345${p}`, { ca, user: "node", password: AGENT });
    t.equal((await as("/v1-rke2/readyz")).status, 200, "agent endpoints: yes");
    t.equal((await as("/v1-rke2/server-bootstrap")).status, 403, "server-bootstrap: 403 Forbidden");
    const bad = start({
      ...serverSpec("d5", 5),
      config: { ...serverSpec("d5", 5).config, token: agentToken },
    });
    t.equal(await bad.exited, 1, "a server given the agent token exits");
    t.match(
      bad.log(),
      /level=fatal msg="failed to get server bootstrap data: https:\/\/127\.87\.4\.1:9345\/v1-rke2\/server-bootstrap: 403 Forbidden"/,
    );
    t.same(await names(), ["d1", "d2", "d3"], "and never became an etcd member");
  });

  t.test("a server with another agent-token: critical configuration value mismatch", async (t) => {
    const other = start(serverSpec("d6", 6, { "agent-token": "some-other-agent-token" }));
    t.equal(await other.exited, 1);
    t.match(other.log(), /critical configuration value mismatch between servers: agent-token/);
    t.notMatch(other.log(), /some-other-agent-token|day-two-agent-pw/, "tokens never appear in the log");
  });

  t.test(
    "a stale node-password secret blocks another machine under the same name until deleted",
    async (t) => {
      const old = latest("da");
      old.kill();
      await old.exited;
      const newcomer = start({
        role: "agent",
        name: "da",
        dir: "da-reinstalled",
        ip: ip(11),
        config: { server: `https://${ip(1)}:9345`, token: agentToken },
      });
      await waitFor("rejected", () => /Node password rejected, duplicate hostname/.test(newcomer.log()));
      t.equal(
        (await node("da")).status.addresses[0].address,
        ip(10),
        "the Node still belongs to the old machine",
      );
      const del = await d1.kubectl("delete", "secret", "-n", "kube-system", "da.node-password.rke2");
      t.equal(del.code, 0, del.stderr);
      await waitFor(
        "the newcomer registers",
        async () => (await node("da"))?.status.addresses[0].address === ip(11),
      );
      t.pass("registered once the secret was gone");
    },
  );

  t.test(
    "deleting an agent's Node: its secret goes, etcd is untouched, the kubelet does not recreate it",
    async (t) => {
      const r = await d1.kubectl("delete", "node", "da");
      t.equal(r.stdout, 'node "da" deleted\n');
      t.equal(await node("da"), null, "gone once kubectl returned (it waits for the finalizers)");
      t.equal(
        (await d1.kubectl("get", "secret", "-n", "kube-system", "da.node-password.rke2")).code,
        1,
        "node-password secret removed with the Node",
      );
      t.same(await names(), ["d1", "d2", "d3"]);
      const agent = latest("da");
      await waitFor("status update fails", () => /Error updating node status/.test(agent.log()), 30_000);
      t.equal(await node("da"), null, "still gone");
    },
  );

  t.test(
    "etcdctl move-leader works against the simulator's etcd (plain http, no client certs)",
    async (t) => {
      const status = async () => {
        const { stdout } = await run("etcdctl", [
          `--endpoints=${[1, 2, 3].map(etcdOf).join(",")}`,
          "endpoint",
          "status",
          "-w",
          "json",
        ]);
        return JSON.parse(stdout.replace(/"(member_id|leader)":(\d+)/g, '"$1":"$2"')) as {
          Endpoint: string;
          Status: { header: { member_id: string }; leader: string };
        }[];
      };
      const before = await status();
      const leaderId = before[0]!.Status.leader;
      const target = before.find((s) => s.Status.header.member_id !== leaderId)!;
      const leaderEp = before.find((s) => s.Status.header.member_id === leaderId)!.Endpoint;
      const hex = BigInt(target.Status.header.member_id).toString(16);
      await run("etcdctl", [`--endpoints=${leaderEp}`, "move-leader", hex]);
      const after = await status();
      t.equal(
        after[0]!.Status.leader,
        target.Status.header.member_id,
        `leadership moved to ${target.Endpoint}`,
      );
    },
  );

  t.test("the remove annotation removes the member and keeps the Node", async (t) => {
    const d3 = latest("d3");
    const r = await d1.kubectl("annotate", "node", "d3", "etcd.rke2.cattle.io/remove=true");
    t.equal(r.code, 0, r.stderr);
    await waitFor("d3's member removed", async () => !(await names()).includes("d3"));
    const n = await waitFor("removed-node-name set", async () => {
      const x = await node("d3");
      return x?.metadata.annotations["etcd.rke2.cattle.io/removed-node-name"] === "d3" ? x : null;
    });
    t.ok(n, "Node d3 is still there, with etcd.rke2.cattle.io/removed-node-name=d3");
    t.equal(await d3.exited, 1, "d3's rke2 stops: its etcd was removed");
    t.match(
      d3.log(),
      /level=fatal msg="etcd exited: the member has been permanently removed from the cluster/,
    );
  });

  t.test(
    "a removed server restarted on its old data dir fails; with server/db wiped it joins again",
    async (t) => {
      const again = start(serverSpec("d3", 3));
      t.equal(await again.exited, 1, "refused on the old data dir");
      t.match(again.log(), /the member has been permanently removed from the cluster/);
      t.match(again.log(), /delete .*server\/db to join again as a new member/);
      rmSync(path.join(again.dataDir, "server", "db"), { recursive: true, force: true });
      const fresh = await startJoined(start, serverSpec("d3", 3));
      t.match(
        fresh.log(),
        /Adding member d3=http:\/\/127\.87\.4\.3:2380/,
        "added again as a new member (learner first)",
      );
      t.same(await names(), ["d1", "d2", "d3"], "and promoted to voter");
      const n = await waitFor("removed flag reset", async () => {
        const x = await node("d3");
        return x?.metadata.annotations["etcd.rke2.cattle.io/remove"] === "false" ? x : null;
      });
      t.notOk(
        n.metadata.annotations["etcd.rke2.cattle.io/removed-node-name"],
        "removed-node-name cleared by the member controller",
      );
    },
  );

  t.test("deleting a server's Node removes its etcd member and its node-password secret", async (t) => {
    const d2 = latest("d2");
    // When d2 led etcd, removing its member changes the leader under the request: etcd answers
    // "leader changed", or the write times out while the new leader is elected, and the apiserver
    // passes that on. A client (muster's removal too) tries again; only those errors are retried,
    // a bounded number of times, and whatever the last answer was is asserted.
    const transient = /etcdserver: (leader changed|no leader|request timed out)|aborted due to timeout/;
    let r = await d1.kubectl("delete", "node", "d2", "--timeout=60s");
    for (let tries = 1; r.code !== 0 && transient.test(r.stderr) && tries < 5; tries++) {
      t.comment(`retried after: ${r.stderr.trim()}`);
      r = await d1.kubectl("delete", "node", "d2", "--ignore-not-found", "--timeout=60s");
    }
    t.equal(r.code, 0, r.stderr);
    t.same(await names(), ["d1", "d3"], "member gone by the time the Node is");
    t.equal(await node("d2"), null);
    t.equal((await d1.kubectl("get", "secret", "-n", "kube-system", "d2.node-password.rke2")).code, 1);
    t.equal(await d2.exited, 1, "d2's rke2 stops with its etcd");
  });
}
