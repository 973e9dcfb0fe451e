// The lab driven only through its command line (spawned `npm run lab` children and the `muster` CLI
// with the environment `up` printed), checked from outside: `ip netns`, /proc/mounts, processes.
import fs from "node:fs";
import { LAB_ROOT } from "@muster/lab/lab/state";
import { netnsPrefix } from "@muster/lab/world/layout";
import t from "tap";
import { FAST, type LabJson, lab, labPids, muster, nodes, skip, traces, until } from "./helpers.ts";

t.test("bad input: one line, exit 2, nothing made", { skip }, async (t) => {
  // Other suites make namespaces of their own in parallel, so the machine-wide count proves nothing.
  // A lab writes its manifest under the lab root before it makes anything: no new entry there, and
  // no namespace of a lab, means nothing was made.
  const labRoot = LAB_ROOT;
  const entries = () => (fs.existsSync(labRoot) ? fs.readdirSync(labRoot).sort() : []);
  const labNetns = () =>
    fs.existsSync("/run/netns")
      ? fs.readdirSync("/run/netns").filter((n) => entries().some((id) => n.startsWith(netnsPrefix(id))))
      : [];
  const before = entries();
  const nsBefore = labNetns();
  for (const args of [
    ["kill", "abcd", "server-1"],
    ["up", "--servers", "0"],
    ["up", "--registration", "dns"],
    ["add", "abcd"],
  ]) {
    const r = await lab(args);
    t.equal(r.exitCode, 2, `${args.join(" ")} exits 2`);
    t.match(r.stderr, /^lab: [^\n]+$/, `${args.join(" ")}: one line (${r.stderr})`);
  }
  t.same(entries(), before, "no lab was recorded");
  t.same(labNetns(), nsBefore, "no namespace of a lab was created");
});

t.test("up 3+1, exec, partition and heal, kill, add, stop, down", { skip }, async (t) => {
  const up = await lab(["up", "--servers", "3", "--agents", "1", ...FAST, "--json"]);
  const last = up.stdout.trim().split("\n").at(-1) ?? "";
  const info = JSON.parse(last) as LabJson;
  t.teardown(() => lab(["down", info.id]));
  t.equal(up.exitCode, 0, "up exits 0", { stderr: up.stderr });
  t.match(info.id, /^[0-9a-f]{4}$/);
  t.same(
    info.nodes.map((n) => [n.name, n.role]),
    [
      ["server-1", "server"],
      ["server-2", "server"],
      ["server-3", "server"],
      ["agent-1", "agent"],
    ],
  );
  t.equal(info.registrationAddress, info.nodes[0]!.address, "registration node: the init server's IP");
  const init = (await nodes(info.env)).filter((n) => n.init).map((n) => n.name);
  t.same(init, ["server-1"], "server-1 is the init server");
  t.match(info.coordinator, { url: /^https:\/\/127\.0\.0\.1:\d+$/, pin: /^sha256\/\// });
  t.equal(fs.statSync(info.coordinator.adminTokenFile).mode & 0o777, 0o600, "admin token file is 0600");
  t.match(fs.readFileSync(info.coordinator.caFile, "utf8"), /BEGIN CERTIFICATE/);
  t.match((await lab(["ls"])).stdout, new RegExp(`^${info.id} +ready +3 +1`, "m"), "ls lists it");

  const status = await muster(info.env, ["status"]);
  t.equal(status.exitCode, 0, status.stderr);
  t.match(status.stdout, /\(ready\)/);
  t.match(status.stdout, /servers: +3\/3 ready/);

  const ex = await lab(["exec", info.id, "server-2", "--", "sh", "-c", "hostname; exit 7"]);
  t.equal(ex.exitCode, 7, "exec passes the exit code through");
  t.equal(ex.stdout.trim(), "server-2", "exec runs inside the node");

  // partition: agent-1 cannot reach server-1's supervisor port; heal restores it.
  const ping = [
    "exec",
    info.id,
    "agent-1",
    "--",
    "curl",
    "-fsk",
    "-m",
    "2",
    `https://${info.nodes[0]!.address}:9345/ping`,
  ];
  t.equal((await lab(ping)).exitCode, 0, "reachable before");
  t.equal((await lab(["partition", info.id, "agent-1"])).exitCode, 0);
  t.not((await lab(ping)).exitCode, 0, "unreachable while partitioned");
  t.equal((await lab(["heal", info.id, "agent-1"])).exitCode, 0);
  // The link comes back up at once, the path through it a moment later (carrier, neighbour entries):
  // poll, as for the timed partition below.
  t.ok(
    await until(
      "agent-1 to reach server-1 after heal",
      async () => ((await lab(ping)).exitCode === 0 ? true : undefined),
      30_000,
    ),
    "reachable after heal",
  );
  t.equal((await lab(["partition", info.id, "agent-1", "--seconds", "15"])).exitCode, 0);
  t.not((await lab(ping)).exitCode, 0, "unreachable during a timed partition");
  await until("the timed partition to heal by itself", async () =>
    (await lab(ping)).exitCode === 0 ? true : undefined,
  );

  // add: a new agent joins (before the kill: a dead peer fails the newcomer's peers-arp check).
  const add = await lab(["add", info.id, "--role", "agent", "--json"]);
  t.equal(add.exitCode, 0, "add exits 0", { stderr: add.stderr });
  t.match(JSON.parse(add.stdout.trim().split("\n").at(-1) ?? "{}"), { name: "agent-2", state: "joined" });
  const view = (await nodes(info.env)).find((n) => n.name === "agent-2");
  t.match(view, { state: "joined", connected: true }, "muster nodes shows agent-2 joined");

  // kill: the node's agent is seen disconnected.
  t.equal((await lab(["kill", info.id, "agent-1"])).exitCode, 0);
  await until("agent-1 to show as disconnected", async () => {
    const a = (await nodes(info.env)).find((n) => n.name === "agent-1");
    return a && !a.connected ? a : undefined;
  });
  t.pass("agent-1 disconnected in muster nodes");

  // stop: a unit inside a node.
  t.equal((await lab(["stop", info.id, "server-3", "rke2-server"])).exitCode, 0);
  const active = await lab(["exec", info.id, "server-3", "--", "systemctl", "is-active", "rke2-server"]);
  t.not(active.exitCode, 0, "rke2-server is no longer active on server-3");

  // down: nothing left, checked from outside.
  const pids = await labPids(info.id);
  t.ok(pids.length > 5, `the lab ran processes (${pids.length})`);
  const down = await lab(["down", info.id]);
  t.equal(down.exitCode, 0, down.stderr);
  t.same(traces(info.id, pids), { netns: [], mounts: [], alive: [] }, "no namespace, mount or process left");
  t.notOk(fs.existsSync(`/run/muster-lab/${info.id}`), "no lab directory left");
  t.notMatch((await lab(["ls"])).stdout, new RegExp(`^${info.id} `, "m"), "ls no longer lists it");
  t.equal((await lab(["down", info.id])).exitCode, 2, "a second down: unknown lab");
});
