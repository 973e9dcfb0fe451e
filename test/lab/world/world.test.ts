import fs from "node:fs";
import path from "node:path";
import { mounts, pidAlive } from "@muster/lab/world/host";
import { NETNS_DIR, STATE_ROOT } from "@muster/lab/world/layout";
import { arpFree, arpingFlavour, firstLine } from "@muster/lab/world/testing";
import { canRunWorld, downAll, up, type World, type WorldNode } from "@muster/lab/world/world";
import { execa } from "execa";
import t from "tap";

const can = canRunWorld();
const skip = can.ok ? false : `world tests skipped: ${can.ok ? "" : can.reason}`;
const NODE = process.execPath;

t.test("world", { skip }, async (t) => {
  const hostMountsBefore = new Set(mounts().map((m) => m.target));
  let started = Date.now();
  const world = await up({ nodes: [{ name: "alpha" }, { name: "beta" }, { name: "gamma" }] });
  t.comment(`up (3 nodes + coordinator): ${Date.now() - started} ms, world ${world.id}, ${world.subnet}`);
  t.teardown(() => world.down());
  const machines = [...world.nodes, world.coordinator];

  t.test("each machine has its own hostname, eth0 address and machine-id", async (t) => {
    const ids = new Set<string>();
    for (const m of machines) {
      const r = await m.sh(
        "hostname; cat /etc/hostname /etc/machine-id; ip -4 -o addr show dev eth0; ls /sys/class/net",
      );
      const [hostname, etcHostname, machineId, addr, ...ifaces] = r.stdout.split("\n");
      t.equal(hostname, m.name, `${m.name}: hostname`);
      t.equal(etcHostname, m.name, `${m.name}: /etc/hostname`);
      t.match(machineId, /^[0-9a-f]{32}$/, `${m.name}: machine-id format`);
      t.equal(machineId, m.machineId);
      ids.add(machineId ?? "");
      t.match(
        addr,
        new RegExp(`eth0\\s+inet ${m.ip.replaceAll(".", "\\.")}/24 `),
        `${m.name}: eth0 has ${m.ip}`,
      );
      t.same(ifaces.sort(), ["eth0", "lo"], `${m.name}: /sys/class/net shows the node's netns`);
    }
    t.equal(ids.size, machines.length, "machine-ids are distinct");
    t.equal(world.coordinator.ip, `10.250.${world.subnetIndex}.2`);
    t.same(
      world.nodes.map((n) => n.ip),
      [10, 11, 12].map((h) => `10.250.${world.subnetIndex}.${h}`),
    );
  });

  t.test("machines reach each other over TCP and see the right peer", async (t) => {
    const serve = `require("net").createServer((s) => s.end(require("os").hostname())).listen(7000, process.argv[1], () => console.log("ready"))`;
    const servers = world.nodes.map((n) => n.spawn(NODE, ["-e", serve, n.ip]));
    await Promise.all(servers.map((s) => firstLine(s)));
    const probe = `const net = require("net"); (async () => { for (const ip of process.argv.slice(1)) {
      const s = net.connect(7000, ip); let b = ""; s.on("data", (d) => (b += d));
      await new Promise((r, j) => { s.on("end", r); s.on("error", j); }); console.log(ip + "=" + b); } })()`;
    for (const n of machines) {
      const peers = world.nodes.filter((p) => p !== n);
      const r = await n.exec(NODE, ["-e", probe, ...peers.map((p) => p.ip)]);
      t.same(
        r.stdout.split("\n"),
        peers.map((p) => `${p.ip}=${p.name}`),
        `${n.name} reaches its peers`,
      );
    }
    for (const s of servers) s.kill();
  });

  t.test("ARP works between nodes and the VIP is free until claimed", async (t) => {
    const [a, b, c] = world.nodes as [WorldNode, WorldNode, WorldNode];
    for (const [from, to] of [
      [a, b],
      [b, c],
      [c, a],
    ] as const) {
      const r = await from.exec("arping", ["-c1", "-C1", "-I", "eth0", to.ip], { reject: false });
      t.equal(r.exitCode, 0, `${from.name} arpings ${to.name}`);
    }
    const flavour = await arpingFlavour(a);
    t.comment(`arping flavour: ${flavour}`);
    t.equal(await arpFree(a, world.vip, flavour), true, "arping -D reports the VIP free");
    await b.exec("ip", ["addr", "add", `${world.vip}/32`, "dev", "eth0"]);
    t.equal(await arpFree(a, world.vip, flavour), false, "the VIP answers once a node claims it");
    await b.exec("ip", ["addr", "del", `${world.vip}/32`, "dev", "eth0"]);
  });

  t.test("bind mounts and overlays keep files per node", async (t) => {
    const [a, b] = world.nodes as [WorldNode, WorldNode];
    await a.sh(
      "mkdir -p /etc/rancher/rke2 && echo a > /etc/rancher/rke2/config.yaml && echo a > /etc/world-probe",
    );
    t.equal(fs.readFileSync(a.path("/etc/rancher/rke2/config.yaml"), "utf8"), "a\n", "node.path maps a bind");
    t.equal(fs.readFileSync(a.path("/etc/world-probe"), "utf8"), "a\n", "node.path maps an overlay file");
    const r = await b.sh("ls /etc/rancher/rke2/config.yaml /etc/world-probe 2>&1; ls -A /etc/rancher", {
      reject: false,
    });
    t.match(r.stdout, /No such file.*\n.*No such file/, "beta sees neither file");
    t.notOk(fs.existsSync("/etc/rancher/rke2/config.yaml"), "host /etc/rancher is untouched");
    t.notOk(fs.existsSync("/etc/world-probe"), "host /etc is untouched");
    await a.sh("echo a > /tmp/p && echo a > /run/p && echo a > /usr/local/bin/p");
    for (const p of ["/tmp/p", "/run/p", "/usr/local/bin/p"]) {
      t.ok(fs.existsSync(a.path(p)), `${p} lands in alpha's dir`);
      t.equal((await b.exec("test", ["-e", p], { reject: false })).exitCode, 1, `beta has no ${p}`);
    }
    const leaked = mounts()
      .map((m) => m.target)
      .filter((m) => !hostMountsBefore.has(m))
      // namespace files of any world (test files run in parallel) are expected
      .filter((m) => !m.startsWith(`${NETNS_DIR}/mw`) && !m.startsWith(STATE_ROOT));
    t.same(leaked, [], "the host gains no mount but namespace files");
  });

  t.test("a process spawned in a node sees the node", async (t) => {
    const n = world.nodes[1]!;
    const code = `const fs = require("fs"); console.log(require("os").hostname(), fs.readFileSync("/etc/machine-id", "utf8").trim(), process.cwd(), process.env.NODE_OPTIONS ?? "-", process.env.TAP ?? "-")`;
    const r = await n.spawn(NODE, ["-e", code]);
    t.equal(
      r.stdout,
      `${n.name} ${n.machineId} ${process.cwd()} - -`,
      "hostname, machine-id, cwd, clean env",
    );
  });

  t.test("the mirror serves files from the coordinator", async (t) => {
    const dir = world.coordinator.path("/tmp/mirror");
    fs.mkdirSync(path.join(dir, "v1.33.5+rke2r1"), { recursive: true });
    fs.writeFileSync(path.join(dir, "install.sh"), "#!/bin/sh\necho installer\n");
    fs.writeFileSync(
      path.join(dir, "v1.33.5+rke2r1", "sha256sum-amd64.txt"),
      "abc  rke2.linux-amd64.tar.gz\n",
    );
    const listen = `${world.coordinator.ip}:8080`;
    const mirror = world.coordinator.spawn(NODE, [
      "packages/lab/src/world/mirror-main.ts",
      "/tmp/mirror",
      "--listen",
      listen,
    ]);
    t.match(await firstLine(mirror), /listening on http:\/\/10\.250\.\d+\.2:8080/);
    for (const n of world.nodes) {
      const r = await n.exec("curl", ["-fsS", `http://${listen}/`]);
      t.equal(r.stdout, "#!/bin/sh\necho installer", `${n.name} fetches install.sh`);
    }
    const sha = await world.nodes[0]!.exec("curl", [
      "-fsS",
      `http://${listen}/v1.33.5%2Brke2r1/sha256sum-amd64.txt`,
    ]);
    t.match(sha.stdout, /rke2\.linux-amd64\.tar\.gz/);
    const missing = await world.nodes[0]!.exec("curl", ["-fsS", `http://${listen}/nope`], { reject: false });
    t.equal(missing.exitCode, 22, "missing file -> 404");
    mirror.kill("SIGTERM");
    t.equal((await mirror).exitCode, 0, "mirror stops cleanly on SIGTERM");
  });

  t.test("bad options fail clearly and leave nothing behind", async (t) => {
    const before = fs.readdirSync(NETNS_DIR).sort();
    await t.rejects(up({ nodes: [{ name: "Bad_Name" }] }), /node name "Bad_Name" must be/);
    await t.rejects(up({ nodes: [{ name: "hub" }] }), /reserved/);
    await t.rejects(up({ nodes: [{ name: "x" }], subnetIndex: world.subnetIndex }), /is leased by world/);
    await t.rejects(up({ nodes: [{ name: "x", ip: "192.168.1.1" }] }), /must be in 10\.250\.\d+\.0\/24/);
    const mine = (e: string) => before.includes(e) || !e.startsWith("mw");
    t.same(
      fs.readdirSync(NETNS_DIR).filter((e) => !mine(e)),
      [],
      "no netns left by failed up()",
    );
  });

  t.test("down() leaves nothing behind", async (t) => {
    const n = world.nodes[0]!;
    const sleeper = n.spawn("sleep", ["300"], { reject: false });
    const orphan = Number((await n.sh("sleep 300 >/dev/null 2>&1 & echo $!")).stdout);
    started = Date.now();
    const report = await world.down();
    t.comment(`down: ${Date.now() - started} ms`);
    t.same(report.problems, []);
    t.ok(report.killed.includes(orphan) && report.killed.includes(sleeper.pid!), "killed both processes");
    t.equal((await sleeper).isTerminated, true);
    assertGone(t, world, [sleeper.pid!, orphan]);
    await t.rejects(async () => n.exec("true"), /world is down/);
  });
});

t.test("downAll() reaps a crashed run's world", { skip }, async (t) => {
  const child = execa(NODE, [path.join(import.meta.dirname, "fixtures/crash-child.ts")], { reject: false });
  const info = JSON.parse(await firstLine(child)) as {
    id: string;
    netns: string;
    root: string;
    sleeper: number;
  };
  child.kill("SIGKILL");
  await child;
  if (!fs.existsSync(path.join(NETNS_DIR, info.netns))) t.comment("already reaped by a parallel up()");
  const started = Date.now();
  const reaped = downAll();
  t.comment(`downAll: ${Date.now() - started} ms`);
  const mine = reaped.find((r) => r.id === info.id);
  if (mine) t.same(mine.problems, []);
  assertGone(t, { id: info.id, root: info.root, subnetIndex: undefined }, [info.sleeper]);
});

interface Asserts {
  same(found: unknown, wanted: unknown, message: string): unknown;
  notOk(value: unknown, message: string): unknown;
}

function assertGone(
  t: Asserts,
  w: Pick<World, "id" | "root"> & { subnetIndex: number | undefined },
  pids: number[],
): void {
  t.same(
    pids.filter((p) => pidAlive(p)),
    [],
    "no process left",
  );
  const netns = fs.readdirSync(NETNS_DIR).filter((e) => e.startsWith(`mw${w.id}-`));
  t.same(netns, [], "no netns left");
  const left = mounts().filter((m) => m.target.includes(`/${w.id}/`) || m.target.includes(`mw${w.id}-`));
  t.same(left, [], "no mount left");
  t.notOk(fs.existsSync(w.root), "no node files left");
  t.notOk(fs.existsSync(path.join(STATE_ROOT, w.id)), "no state dir left");
  const leases = fs.readdirSync(path.join(STATE_ROOT, "subnets"));
  const mine = leases.filter(
    (k) => fs.readFileSync(path.join(STATE_ROOT, "subnets", k), "utf8").trim() === w.id,
  );
  t.same(mine, [], "subnet released");
}
