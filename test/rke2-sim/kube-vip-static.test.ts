// kube-vip as a static pod (<data-dir>/agent/pod-manifests/): it starts with the kubelet, before this
// server's apiserver exists (the difference from the DaemonSet), its image may come through a
// registries.yaml mirror, and removing the manifest stops it with SIGTERM, which releases the lease and
// deletes the VIP at once (unlike SIGKILL).
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import t from "tap";
import { staticPodManifest } from "./kube-vip-manifest.ts";
import { Network } from "./netns.ts";
import { commandExists, isRoot, removeUnlessFailed, waitFor } from "./testkit.ts";
import { UnitNode } from "./unit-node.ts";

const missing = ["etcd", "etcdctl", "ip", "arping", "python3", "systemd-notify"].filter(
  (c) => !commandExists(c),
);
if (!isRoot() || missing.length) {
  t.plan(0, !isRoot() ? "needs root (network namespaces)" : `missing: ${missing.join(", ")}`);
} else {
  const root = mkdtempSync(path.join(tmpdir(), "rke2-sim-kube-vip-static-"));
  const net = new Network(`kvs${process.pid}`, "10.250.252");
  const VIP = "10.250.252.100";
  const m = net.add("s1", 11);
  // Two seconds from start to apiserver: the static pod must be running before that.
  const s1 = new UnitNode(root, m, { token: "kube-vip-static-pw-01" }, { RKE2_SIM_INIT_SECONDS: "2" });
  t.teardown(() => {
    net.destroy();
    removeUnlessFailed(t, root);
  });
  const lease = () => {
    const r = spawnSync(
      "ip",
      [
        "netns",
        "exec",
        m.netns,
        "etcdctl",
        `--endpoints=http://${m.ip}:2379`,
        "get",
        "--print-value-only",
        "/registry/leases/kube-system/plndr-cp-lock",
      ],
      { encoding: "utf8" },
    );
    return r.stdout.trim() ? (JSON.parse(r.stdout).spec as { holderIdentity?: string }) : null;
  };

  t.test("a static pod starts with the kubelet, before the apiserver, and takes the VIP", async (t) => {
    s1.writeFile("agent/pod-manifests/kube-vip.yaml", staticPodManifest({ address: VIP, iface: "eth0" }));
    s1.writeFile(
      "registries.yaml",
      'mirrors:\n  "ghcr.io":\n    endpoint:\n      - "https://registry.example.internal:5000"\n',
    );
    const r = await s1.systemctl("start", "rke2-server");
    t.equal(r.code, 0, r.stderr);
    const j = s1.journal();
    t.match(
      j,
      /Started container kube-vip in pod kube-system\/kube-vip-s1 \(pulled through the ghcr\.io mirror\)/,
    );
    t.ok(
      j.indexOf("Started container kube-vip") < j.indexOf("Running kube-apiserver"),
      "container started before the apiserver",
    );
    await waitFor("s1 holds the VIP", () => net.holds(m, VIP), 30_000, 100);
    t.equal(lease()?.holderIdentity, "s1");
    // The kubelet registers the mirror pod once the apiserver answers, which may be after kube-vip
    // already holds the VIP: wait until `kubectl get` finds it rather than reading it once.
    const pod = await waitFor(
      "the mirror pod kube-vip-s1",
      async () => {
        const r = await s1.kubectl("get", "pods", "-n", "kube-system", "kube-vip-s1", "-o", "json");
        return r.code === 0 && r.stdout.trim() ? JSON.parse(r.stdout) : null;
      },
      30_000,
      100,
    );
    t.ok(pod.metadata.annotations["kubernetes.io/config.mirror"], "shown as a mirror pod");
    t.equal(pod.status.containerStatuses[0].state.running !== undefined, true, "Running");
  });

  t.test("removing the manifest stops it with SIGTERM: lease released, VIP deleted", async (t) => {
    rmSync(path.join(s1.dataDir, "agent", "pod-manifests", "kube-vip.yaml"));
    await waitFor("VIP deleted", () => !net.holds(m, VIP), 30_000, 100);
    await waitFor(
      "lease released",
      () => lease()?.holderIdentity === undefined || lease()?.holderIdentity === "",
      10_000,
    );
    t.match(s1.kubeVipLog(), /Received kube-vip termination, signaling shutdown/);
    t.match(s1.kubeVipLog(), /successfully released lease kube-system\/plndr-cp-lock/);
    t.equal(s1.kubeVipPid(), null, "the container is gone");
  });
}
