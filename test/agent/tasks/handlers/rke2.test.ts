import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import {
  rke2Install,
  rke2Start,
  rke2Stop,
  rke2Uninstall,
  rke2WipeDb,
} from "@muster/agent/tasks/handlers/rke2";
import { TaskFailed } from "@muster/agent/tasks/types";
import t from "tap";
import { fakeRke2Host } from "../../helpers/fake-rke2.ts";
import { type ExecCall, failed, fakeExec, fakeSystemd, ok } from "../../helpers/fakes.ts";
import { taskContext } from "../../helpers/task-context.ts";

function put(root: string, p: string, body = "#!/bin/sh\n") {
  mkdirSync(path.dirname(path.join(root, p)), { recursive: true });
  writeFileSync(path.join(root, p), body, { mode: 0o755 });
}
const scriptsRun = (root: string, calls: ExecCall[]) =>
  calls.filter((c) => c.cmd.startsWith(root)).map((c) => c.cmd.slice(root.length));

t.test("rke2.stop: systemctl stop, then the installed rke2-killall.sh", async (t) => {
  const root = t.testdir();
  put(root, "/opt/rke2/bin/rke2-killall.sh");
  const sd = fakeSystemd({ "rke2-server": { active: true, enabled: true } });
  const ex = fakeExec(() => ok());
  const { ctx } = taskContext(root, { systemd: sd.systemd, exec: ex.exec });
  t.same(await rke2Stop({ kind: "rke2.stop", unit: "rke2-server", killall: true }, ctx), { killed: true });
  t.same(sd.calls, ["stop rke2-server"]);
  t.same(scriptsRun(root, ex.calls), ["/opt/rke2/bin/rke2-killall.sh"], "found under the /opt/rke2 prefix");
  t.equal(sd.state.get("rke2-server")!.enabled, true, "stopping does not disable");
});

t.test("rke2.stop without killall, or without the script, kills nothing", async (t) => {
  const root = t.testdir();
  const ex = fakeExec(() => ok());
  const a = taskContext(root, { exec: ex.exec });
  t.same(await rke2Stop({ kind: "rke2.stop", unit: "rke2-agent", killall: false }, a.ctx), { killed: false });
  const b = taskContext(root, { exec: ex.exec });
  t.same(await rke2Stop({ kind: "rke2.stop", unit: "rke2-agent", killall: true }, b.ctx), { killed: false });
  t.match(b.progress[0], /rke2-killall\.sh is not installed/);
  t.same(scriptsRun(root, ex.calls), []);
});

t.test(
  "rke2.stop: a unit that is not loaded is already stopped; other failures are TaskFailed",
  async (t) => {
    const root = t.testdir();
    const stopWith = (exitCode: number, stderr: string) => ({
      ...fakeSystemd().systemd,
      stop: async () => failed(exitCode, stderr),
    });
    const gone = taskContext(root, {
      systemd: stopWith(5, "Failed to stop rke2-server.service: Unit rke2-server.service not loaded.\n"),
    });
    t.same(await rke2Stop({ kind: "rke2.stop", unit: "rke2-server", killall: false }, gone.ctx), {
      killed: false,
    });
    const denied = taskContext(root, {
      systemd: stopWith(4, "Failed to stop rke2-server.service: Access denied\n"),
    });
    await t.rejects(rke2Stop({ kind: "rke2.stop", unit: "rke2-server", killall: true }, denied.ctx), {
      constructor: TaskFailed,
      message:
        "systemctl stop rke2-server failed (exit 4): Failed to stop rke2-server.service: Access denied",
    });
    put(root, "/usr/local/bin/rke2-killall.sh");
    const ex = fakeExec(() => failed(1, "+ umount /run/k3s\numount: /run/k3s: target is busy.\n"));
    const busy = taskContext(root, { exec: ex.exec });
    await t.rejects(rke2Stop({ kind: "rke2.stop", unit: "rke2-server", killall: true }, busy.ctx), {
      message:
        "/usr/local/bin/rke2-killall.sh failed (exit 1): + umount /run/k3s | umount: /run/k3s: target is busy.",
    });
  },
);

t.test("rke2.start: blocking systemctl start with a long timeout and progress while it blocks", async (t) => {
  const root = t.testdir();
  put(root, "/usr/local/lib/systemd/system/rke2-server.service", "[Unit]\n");
  let release!: () => void;
  const gate = new Promise<void>((r) => {
    release = r;
  });
  const seen: Array<{ timeoutMs: number }> = [];
  const sd = fakeSystemd({}, async () => {
    await gate;
    return ok();
  });
  const systemd = {
    ...sd.systemd,
    start: (u: string, o: { timeoutMs: number }) => {
      seen.push(o);
      return sd.systemd.start(u, o);
    },
  };
  const { ctx, progress } = taskContext(root, { systemd, progressEveryMs: 5 });
  const running = rke2Start({ kind: "rke2.start", unit: "rke2-server" }, ctx);
  const deadline = Date.now() + 5000;
  while (progress.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  release();
  t.same(await running, {});
  t.same(sd.calls, ["start rke2-server"], "start, not enable --now");
  t.ok(seen[0]!.timeoutMs >= 10 * 60_000, "a joining server may take minutes");
  t.match(progress[0], /^waiting for rke2-server to report ready: \d+ s$/);
});

t.test("rke2.start: no unit file, or a failed start, is TaskFailed pointing at the journal", async (t) => {
  const root = t.testdir();
  await t.rejects(rke2Start({ kind: "rke2.start", unit: "rke2-agent" }, taskContext(root).ctx), {
    message: "rke2-agent.service is not installed on this node",
  });
  put(root, "/etc/systemd/system/rke2-agent.service", "[Unit]\n");
  const sd = fakeSystemd({}, async () =>
    failed(
      1,
      'Job for rke2-agent.service failed because the control process exited with error code.\nSee "systemctl status rke2-agent.service"\n',
    ),
  );
  await t.rejects(
    rke2Start({ kind: "rke2.start", unit: "rke2-agent" }, taskContext(root, { systemd: sd.systemd }).ctx),
    {
      message:
        "systemctl start rke2-agent failed (exit 1): Job for rke2-agent.service failed because the control process exited with error code.; see journalctl -u rke2-agent",
    },
  );
});

t.test("rke2.uninstall: runs rke2-uninstall.sh; nothing installed is wasInstalled false", async (t) => {
  const root = t.testdir();
  const ex = fakeExec(() => ok());
  t.same(await rke2Uninstall({ kind: "rke2.uninstall" }, taskContext(root, { exec: ex.exec }).ctx), {
    wasInstalled: false,
  });
  put(root, "/usr/local/bin/rke2-uninstall.sh");
  t.same(await rke2Uninstall({ kind: "rke2.uninstall" }, taskContext(root, { exec: ex.exec }).ctx), {
    wasInstalled: true,
  });
  t.same(scriptsRun(root, ex.calls), ["/usr/local/bin/rke2-uninstall.sh"]);
  const bad = fakeExec(() =>
    failed(1, "rm: cannot remove '/var/lib/rancher/rke2': Device or resource busy\n"),
  );
  await t.rejects(rke2Uninstall({ kind: "rke2.uninstall" }, taskContext(root, { exec: bad.exec }).ctx), {
    message: /rke2-uninstall\.sh failed \(exit 1\): rm: cannot remove/,
  });
});

t.test("rke2.uninstall: an rke2 binary without its uninstall script is not silently left", async (t) => {
  const root = t.testdir();
  put(root, "/usr/bin/rke2");
  const ex = fakeExec((cmd, args) =>
    cmd.endsWith("/rke2") && args[0] === "--version" ? ok("rke2 version v1.33.5+rke2r1 (x)\n") : ok(),
  );
  await t.rejects(rke2Uninstall({ kind: "rke2.uninstall" }, taskContext(root, { exec: ex.exec }).ctx), {
    message: "RKE2 is installed at /usr/bin/rke2 but rke2-uninstall.sh is missing",
  });
});

t.test("rke2.wipe-db: refused while rke2-server runs; otherwise server/db is gone", async (t) => {
  const root = t.testdir();
  put(root, "/var/lib/rancher/rke2/server/db/etcd/member/wal/0.wal", "wal");
  const running = fakeSystemd({ "rke2-server": { active: true } });
  await t.rejects(rke2WipeDb({ kind: "rke2.wipe-db" }, taskContext(root, { systemd: running.systemd }).ctx), {
    message: /rke2-server is running: stop it before wiping/,
  });
  t.ok(existsSync(path.join(root, "var/lib/rancher/rke2/server/db/etcd")), "nothing removed");
  const { ctx } = taskContext(root);
  t.same(await rke2WipeDb({ kind: "rke2.wipe-db" }, ctx), { existed: true });
  t.notOk(existsSync(path.join(root, "var/lib/rancher/rke2/server/db")));
  t.ok(existsSync(path.join(root, "var/lib/rancher/rke2/server")), "only db goes");
  t.same(await rke2WipeDb({ kind: "rke2.wipe-db" }, ctx), { existed: false }, "idempotent");
});

const install = { installerUrl: "https://get.rke2.io", type: "server" as const, version: "v1.33.5+rke2r1" };

t.test("rke2.install: the install phase's installer run; the version from rke2 --version", async (t) => {
  const sim = fakeRke2Host(t.testdir());
  const { ctx } = taskContext(sim.root, { host: sim.host });
  t.same(await rke2Install({ kind: "rke2.install", install }, ctx), { version: "v1.33.5+rke2r1" });
  t.ok(sim.log.includes("download https://get.rke2.io"));
  const runs = () => sim.log.filter((l) => l.startsWith("exec sh")).length;
  t.equal(runs(), 1);
  t.same(await rke2Install({ kind: "rke2.install", install }, ctx), { version: "v1.33.5+rke2r1" });
  t.equal(runs(), 1, "a re-sent task finds the version in place and does not run the installer again");
});

t.test("rke2.install: installer errors and a wrong resulting version are TaskFailed", async (t) => {
  const failing = fakeRke2Host(t.testdir(), {
    installerFails: { exitCode: 1, stderr: "[ERROR]  Download failed\n" },
  });
  await t.rejects(
    rke2Install({ kind: "rke2.install", install }, taskContext(failing.root, { host: failing.host }).ctx),
    {
      constructor: TaskFailed,
      message: /RKE2 installer failed \(exit 1\): \[ERROR\] {2}Download failed/,
    },
  );
  const stale = fakeRke2Host(t.testdir(), { version: "v1.32.1+rke2r1" });
  await t.rejects(
    rke2Install({ kind: "rke2.install", install }, taskContext(stale.root, { host: stale.host }).ctx),
    {
      constructor: TaskFailed,
      message: "the installer left RKE2 v1.32.1+rke2r1; the plan wants v1.33.5+rke2r1",
    },
  );
});

t.test("rke2.stop with killall: crictl stops kube-vip gracefully before rke2-killall.sh", async (t) => {
  const root = t.testdir();
  put(root, "/usr/local/bin/rke2-killall.sh");
  put(root, "/var/lib/rancher/rke2/bin/crictl");
  const id = "a".repeat(64);
  const ex = fakeExec((cmd, args) =>
    args[0] === "ps" ? ok(`${id}\n`) : ok(cmd.endsWith("crictl") ? `${id}\n` : ""),
  );
  const sd = fakeSystemd({ "rke2-server": { active: true, enabled: true } });
  const { ctx, progress } = taskContext(root, { systemd: sd.systemd, exec: ex.exec });
  t.same(await rke2Stop({ kind: "rke2.stop", unit: "rke2-server", killall: true }, ctx), { killed: true });
  t.same(
    scriptsRun(root, ex.calls).map((c, i) => [c, ...ex.calls[i]!.args]),
    [
      ["/var/lib/rancher/rke2/bin/crictl", "ps", "--name", "^kube-vip$", "--state", "running", "-q"],
      ["/var/lib/rancher/rke2/bin/crictl", "stop", "--timeout", "10", id],
      ["/usr/local/bin/rke2-killall.sh"],
    ],
    "kube-vip gets SIGTERM (and time to release its lease) before killall SIGKILLs what is left",
  );
  t.equal(
    ex.calls[0]!.opts.env?.["CONTAINER_RUNTIME_ENDPOINT"],
    "unix:///run/k3s/containerd/containerd.sock",
    "crictl is pointed at RKE2's containerd",
  );
  t.match(progress.join("\n"), /stopped kube-vip \(crictl stop\)/);
});

t.test("rke2.stop: no kube-vip container, or no containerd, still runs rke2-killall.sh", async (t) => {
  const root = t.testdir();
  put(root, "/usr/local/bin/rke2-killall.sh");
  put(root, "/var/lib/rancher/rke2/bin/crictl");
  const none = fakeExec(() => ok(""));
  const a = taskContext(root, { exec: none.exec });
  t.same(await rke2Stop({ kind: "rke2.stop", unit: "rke2-server", killall: true }, a.ctx), { killed: true });
  t.same(
    none.calls.map((c) => c.args[0] ?? c.cmd.slice(root.length)),
    ["ps", "/usr/local/bin/rke2-killall.sh"],
    "nothing to stop: no crictl stop",
  );
  const down = fakeExec((_cmd, args) =>
    args[0] === "ps"
      ? failed(1, "dial unix /run/k3s/containerd/containerd.sock: connect: connection refused\n")
      : ok(),
  );
  const b = taskContext(root, { exec: down.exec });
  t.same(await rke2Stop({ kind: "rke2.stop", unit: "rke2-server", killall: true }, b.ctx), { killed: true });
  t.match(b.progress.join("\n"), /kube-vip not stopped first/);
  t.equal(down.calls.at(-1)!.cmd, path.join(root, "/usr/local/bin/rke2-killall.sh"));
});
