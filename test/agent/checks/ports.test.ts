import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { createFiles } from "@muster/agent/adapters/files";
import { listeningSockets, parseProcNetTcp } from "@muster/agent/checks/listeners";
import { portsCheck } from "@muster/agent/checks/ports";
import { runChecks } from "@muster/agent/checks/runner";
import t from "tap";
import { checkContext } from "../helpers/check-context.ts";

const HEADER =
  "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n";
const line = (port: number, st: string, inode: number) =>
  `   0: 00000000:${port.toString(16).toUpperCase().padStart(4, "0")} 00000000:0000 ${st} 00000000:00000000 00:00000000 00000000     0        0 ${inode} 1 0000000000000000 100 0 0 10 0\n`;
const line6 = (port: number, inode: number) =>
  `   0: 00000000000000000000000000000000:${port.toString(16).toUpperCase().padStart(4, "0")} 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 ${inode} 1 0000000000000000 100 0 0 10 0\n`;

/** A fake /proc: tcp/tcp6 tables plus processes owning socket inodes. */
function fakeProc(
  root: string,
  tcp: string,
  tcp6: string,
  procs: Array<{ pid: number; comm: string; inodes: number[] }>,
) {
  mkdirSync(path.join(root, "proc/net"), { recursive: true });
  writeFileSync(path.join(root, "proc/net/tcp"), HEADER + tcp);
  writeFileSync(path.join(root, "proc/net/tcp6"), HEADER + tcp6);
  for (const p of procs) {
    mkdirSync(path.join(root, `proc/${p.pid}/fd`), { recursive: true });
    writeFileSync(path.join(root, `proc/${p.pid}/comm`), `${p.comm}\n`);
    for (const [i, inode] of p.inodes.entries())
      symlinkSync(`socket:[${inode}]`, path.join(root, `proc/${p.pid}/fd/${i + 3}`));
  }
}

t.test("parseProcNetTcp keeps LISTEN sockets only", async (t) => {
  const text = HEADER + line(6443, "0A", 111) + line(22, "01", 222) + line6(9345, 333);
  t.same(parseProcNetTcp(text), [
    { port: 6443, inode: "111" },
    { port: 9345, inode: "333" },
  ]);
});

t.test("listeningSockets maps inodes to processes", async (t) => {
  const root = t.testdir();
  fakeProc(root, line(6443, "0A", 111), line6(10250, 222), [
    { pid: 42, comm: "nginx", inodes: [111] },
    { pid: 43, comm: "kubelet", inodes: [222] },
  ]);
  const got = await listeningSockets(createFiles(root), [6443, 10250, 9345]);
  t.same(
    got.map((l) => [l.port, l.pid, l.comm]),
    [
      [6443, 42, "nginx"],
      [10250, 43, "kubelet"],
    ],
  );
});

t.test("ports: free passes; a foreign holder fails naming port and process", async (t) => {
  const free = t.testdir();
  fakeProc(free, line(22, "0A", 1), "", [{ pid: 10, comm: "sshd", inodes: [1] }]);
  t.equal((await portsCheck.run(checkContext(free))).status, "pass");

  const busy = t.testdir();
  fakeProc(busy, line(6443, "0A", 111), line6(2379, 222), [{ pid: 42, comm: "haproxy", inodes: [111] }]);
  const r = await portsCheck.run(checkContext(busy));
  t.equal(r.status, "fail");
  t.match(r.message, /6443 held by haproxy \(pid 42\)/);
  t.match(r.message, /2379 held by an unknown process/);

  const [ignored] = await runChecks(checkContext(busy, { request: { ignore: ["ports"] } }), [portsCheck]);
  t.equal(ignored!.status, "warn");
});

t.test("ports: unreadable fd tables (not root) leave the owner unknown instead of crashing", async (t) => {
  const root = t.testdir();
  fakeProc(root, line(6443, "0A", 111), "", [{ pid: 42, comm: "haproxy", inodes: [111] }]);
  const files = createFiles(root);
  const denied = {
    ...files,
    readdir: async (p: string) => {
      if (p.endsWith("/fd")) throw Object.assign(new Error("EACCES: permission denied"), { code: "EACCES" });
      return files.readdir(p);
    },
  };
  const ctx = checkContext(root);
  const r = await portsCheck.run({ ...ctx, host: { ...ctx.host, files: denied } });
  t.equal(r.status, "fail");
  t.match(r.message, /6443 held by an unknown process/);
});

t.test("ports: agents only need 10250", async (t) => {
  const root = t.testdir();
  fakeProc(root, line(6443, "0A", 111), "", [{ pid: 42, comm: "haproxy", inodes: [111] }]);
  const r = await portsCheck.run(checkContext(root, { request: { role: "agent" } }));
  t.equal(r.status, "pass");
  t.match(r.message, /agent ports 10250/);
});

t.test(
  "ports: held by this node's own RKE2 passes; the same process without RKE2 installed fails",
  async (t) => {
    const root = t.testdir();
    fakeProc(root, line(6443, "0A", 111) + line(9345, "0A", 112), "", [
      { pid: 50, comm: "kube-apiserver", inodes: [111] },
      { pid: 51, comm: "rke2", inodes: [112] },
    ]);
    const ours = await portsCheck.run(
      checkContext(root, { facts: { rke2: { installed: true, role: "server" } } }),
    );
    t.equal(ours.status, "pass");
    t.match(ours.message, /6443, 9345 held by this node's RKE2/);
    const theirs = await portsCheck.run(checkContext(root));
    t.equal(theirs.status, "fail");
  },
);
