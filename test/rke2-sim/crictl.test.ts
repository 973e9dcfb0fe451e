// The crictl stand-in at <data-dir>/bin/crictl (what muster's VIP-safe stop uses to stop kube-vip
// gracefully): it needs RKE2's containerd endpoint, lists the kubelet's containers from their records,
// and `stop --timeout N` is SIGTERM then SIGKILL after N s (at once with --timeout 0); with no
// container left running, containerd counts as gone (connection refused).
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { nodeBinary } from "@muster/rke2-sim/paths";
import { installCrictl } from "@muster/rke2-sim/rke2/kubeconfig";
import { writePid } from "@muster/rke2-sim/rke2/pids";
import { execa } from "execa";
import t from "tap";

const ENDPOINT = "unix:///run/k3s/containerd/containerd.sock";

/** A container that, like kube-vip, does its clean-up on SIGTERM (writes `marker`) and exits. */
function container(dataDir: string, pod: string, id: string, marker: string): ChildProcess {
  const child = spawn(
    nodeBinary(),
    [
      "-e",
      `process.on("SIGTERM", () => { require("node:fs").writeFileSync(${JSON.stringify(marker)}, "released"); process.exit(0); }); require("node:fs").writeFileSync(${JSON.stringify(`${marker}.ready`)}, ""); setInterval(() => {}, 1000);`,
    ],
    { stdio: "ignore" },
  );
  const name = `pod-kube-system-${pod}`;
  writePid(dataDir, name, child.pid!);
  mkdirSync(path.join(dataDir, "sim", "pods"), { recursive: true });
  writeFileSync(
    path.join(dataDir, "sim", "pods", `${name}.json`),
    JSON.stringify({
      uid: `uid-${pod}`,
      restartCount: 0,
      startedAt: "2026-01-01T00:00:00Z",
      id,
      container: "kube-vip",
      image: "ghcr.io/kube-vip/kube-vip:v0.9.2",
      podName: pod,
      namespace: "kube-system",
    }),
  );
  return child;
}

const exited = (c: ChildProcess) =>
  c.exitCode !== null || c.signalCode !== null
    ? Promise.resolve()
    : new Promise<void>((r) => c.once("exit", () => r()));

t.test("crictl ps and stop on the simulated kubelet's containers", async (t) => {
  const dataDir = t.testdir();
  const crictl = installCrictl(dataDir);
  const run = (args: string[], env: Record<string, string> = { CONTAINER_RUNTIME_ENDPOINT: ENDPOINT }) =>
    execa(crictl, args, { reject: false, env: { ...env, CRI_CONFIG_FILE: path.join(dataDir, "none.yaml") } });
  const idA = "a".repeat(64);
  const idB = "b".repeat(64);
  const graceful = path.join(dataDir, "a.released");
  const killed = path.join(dataDir, "b.released");
  const a = container(dataDir, "kube-vip-ds-aaaaa", idA, graceful);
  const b = container(dataDir, "kube-vip-ds-bbbbb", idB, killed);
  t.teardown(() => {
    a.kill("SIGKILL");
    b.kill("SIGKILL");
  });
  // Both children have their SIGTERM handler once they wrote their ready file.
  const deadline = Date.now() + 60_000;
  while (!(existsSync(`${graceful}.ready`) && existsSync(`${killed}.ready`))) {
    if (Date.now() > deadline) throw new Error("the stand-in containers did not start");
    await new Promise((r) => setTimeout(r, 50));
  }

  const noEndpoint = await run(["ps", "-q"], {});
  t.equal(noEndpoint.exitCode, 1, "without RKE2's endpoint crictl finds no runtime");
  t.match(noEndpoint.stderr, /unix:\/\/\/run\/containerd\/containerd\.sock.*no such file or directory/);

  const ps = await run(["ps", "--name", "^kube-vip$", "--state", "running", "-q"]);
  t.equal(ps.exitCode, 0, ps.stderr);
  t.same(ps.stdout.trim().split("\n").sort(), [idA, idB]);
  t.same(
    (await run(["ps", "--name", "^etcd$", "-q"])).stdout,
    "",
    "the name is a regexp on the container name",
  );

  const stopA = await run(["stop", "--timeout", "10", idA.slice(0, 13)]);
  t.equal(stopA.exitCode, 0, stopA.stderr);
  t.equal(stopA.stdout.trim(), idA);
  await exited(a);
  t.ok(existsSync(graceful), "with a timeout the container got SIGTERM and cleaned up");

  const stopB = await run(["stop", idB]);
  t.equal(stopB.exitCode, 0, stopB.stderr);
  await exited(b);
  t.equal(b.signalCode, "SIGKILL", "crictl's default --timeout 0 kills at once");
  t.notOk(existsSync(killed));

  const missing = await run(["stop", "--timeout", "1", "c".repeat(64)]);
  t.equal(missing.exitCode, 1);
  const gone = await run(["ps", "-q"]);
  t.equal(gone.exitCode, 1, "no container left and no rke2: containerd is gone too");
  t.match(gone.stderr, /connection refused/);
});
