// The pure pieces behind kube-vip, the simulated API and kubectl: kube-vip's env defaults, image names
// and registry mirrors, manifest discovery, JSON merge patch, DaemonSet node matching, kubectl's
// command line and ages. No etcd, no namespaces.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { nodeMatches } from "@muster/rke2-sim/k8s/controller-manager";
import { mergePatch } from "@muster/rke2-sim/k8s/merge-patch";
import { configFromEnv } from "@muster/rke2-sim/kube-vip/config";
import {
  buildKubeVipImage,
  findImage,
  mirroredRegistries,
  parseImage,
} from "@muster/rke2-sim/kube-vip/image";
import { kubeVipContainer, podSpecOf, readManifestDir, resolveEnv } from "@muster/rke2-sim/kube-vip/manifest";
import { parseArgs, parseDuration, UsageError } from "@muster/rke2-sim/kubectl/args";
import { humanDuration } from "@muster/rke2-sim/kubectl/print";
import t from "tap";
import { daemonSetManifest, staticPodManifest } from "./kube-vip-manifest.ts";

t.test("kube-vip env: kube-vip's names and defaults", async (t) => {
  const c = configFromEnv(
    { vip_arp: "true", cp_enable: "true", address: "10.0.0.5", vip_interface: "eth0" },
    "host-a",
  );
  t.same(
    [
      c.leaseName,
      c.namespace,
      c.leaseDurationSeconds,
      c.renewDeadlineSeconds,
      c.retryPeriodSeconds,
      c.arpRateMs,
      c.port,
    ],
    ["plndr-cp-lock", "kube-system", 5, 3, 1, 3000, 6443],
  );
  t.equal(c.nodeName, "host-a", "falls back to the hostname");
  t.equal(
    configFromEnv({ vip_arpRate: "100" }, "h").arpRateMs,
    3000,
    "a rate under 500 ms is reset to 3000, as kube-vip does",
  );
  t.equal(configFromEnv({ vip_nodename: "N1", NODE_NAME: "x" }, "h").nodeName, "n1");
  t.notOk(configFromEnv({}, "h").arp, "ARP is off unless vip_arp=true");
});

t.test("image names, mirrors and imported tarballs", async (t) => {
  t.same(parseImage("ghcr.io/kube-vip/kube-vip:v0.9.2"), {
    registry: "ghcr.io",
    canonical: "ghcr.io/kube-vip/kube-vip:v0.9.2",
  });
  t.same(parseImage("busybox"), { registry: "docker.io", canonical: "docker.io/library/busybox:latest" });
  t.same(parseImage("localhost:5000/x/y"), {
    registry: "localhost:5000",
    canonical: "localhost:5000/x/y:latest",
  });
  t.same(
    mirroredRegistries('mirrors:\n  "ghcr.io":\n    endpoint: ["https://m:5000"]\n  docker.io: {}\n'),
    ["ghcr.io"],
    "a mirror needs an endpoint",
  );
  const dir = mkdtempSync(path.join(tmpdir(), "kube-vip-image-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const image = "ghcr.io/kube-vip/kube-vip:v0.9.2";
  t.equal(await findImage(image, dir, null), null, "nothing imported, no mirror: no image");
  const file = await buildKubeVipImage(dir, "v0.9.2");
  t.equal(path.basename(file), "kube-vip-v0.9.2.tar");
  t.same(await findImage(image, dir, null), { via: "imported" }, "found by the name inside the tarball");
  t.equal(
    await findImage("ghcr.io/kube-vip/kube-vip:v0.8.0", dir, null),
    null,
    "another version is not there",
  );
  t.same(
    await findImage(
      "ghcr.io/kube-vip/kube-vip:v0.8.0",
      dir,
      'mirrors:\n  "*":\n    endpoint: ["https://m"]\n',
    ),
    {
      via: "mirror",
      registry: "ghcr.io",
    },
  );
});

t.test("manifests: RFC 1123 file names, DaemonSet and static pod specs, fieldRef env", async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), "kube-vip-manifests-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(path.join(dir, "kube-vip.yaml"), daemonSetManifest({ address: "10.0.0.5", iface: "eth0" }));
  writeFileSync(path.join(dir, "Bad_Name.yaml"), staticPodManifest({ address: "10.0.0.5", iface: "eth0" }));
  const warnings: string[] = [];
  const docs = readManifestDir(dir, (w) => warnings.push(w));
  t.same(
    docs.map((d) => d.doc["kind"]),
    ["ServiceAccount", "ClusterRole", "DaemonSet"],
  );
  t.match(warnings[0], /Bad_Name.*not a valid RFC 1123 name/);
  const ds = docs.find((d) => d.doc["kind"] === "DaemonSet")!.doc;
  const c = kubeVipContainer(podSpecOf(ds))!;
  t.equal(c.image, "ghcr.io/kube-vip/kube-vip:v0.9.2");
  const env = resolveEnv(c, "s1");
  t.equal(env["vip_nodename"], "s1", "fieldRef spec.nodeName resolves to the node");
  t.equal(env["vip_leasename"], "plndr-cp-lock");
  t.equal(kubeVipContainer(podSpecOf({ kind: "Deployment", spec: {} })), null);
});

t.test("JSON merge patch: merge, null deletes, no prototype pollution", async (t) => {
  const base = { spec: { unschedulable: true, taints: [1] }, metadata: { labels: { a: "1" } } };
  t.same(mergePatch(base, { spec: { unschedulable: null }, metadata: { labels: { b: "2" } } }), {
    spec: { taints: [1] },
    metadata: { labels: { a: "1", b: "2" } },
  });
  mergePatch({}, JSON.parse('{"__proto__":{"polluted":true}}'));
  t.equal(({} as Record<string, unknown>)["polluted"], undefined);
});

t.test("DaemonSet node matching: nodeSelector and required node affinity", async (t) => {
  const node = (labels: Record<string, string>) =>
    ({ metadata: { labels } }) as unknown as Parameters<typeof nodeMatches>[1];
  const spec = (ds: Record<string, unknown>) => ds as unknown as Parameters<typeof nodeMatches>[0];
  const affinity = {
    affinity: {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [
            { matchExpressions: [{ key: "node-role.kubernetes.io/master", operator: "Exists" }] },
            { matchExpressions: [{ key: "node-role.kubernetes.io/control-plane", operator: "Exists" }] },
          ],
        },
      },
    },
  };
  t.ok(nodeMatches(spec(affinity), node({ "node-role.kubernetes.io/control-plane": "true" })));
  t.notOk(
    nodeMatches(spec(affinity), node({ "kubernetes.io/os": "linux" })),
    "agents do not match kube-vip's affinity",
  );
  t.notOk(nodeMatches(spec({ nodeSelector: { tier: "edge" } }), node({ tier: "core" })));
});

t.test("kubectl command line: flags anywhere, unknown flags, durations, ages", async (t) => {
  const p = parseArgs([
    "-n",
    "kube-system",
    "get",
    "secret",
    "-o",
    "json",
    "--field-selector=spec.nodeName=x",
    "name",
  ]);
  t.equal(p.verb, "get");
  t.same(p.args, ["secret", "name"]);
  t.equal(p.flags.get("namespace"), "kube-system");
  t.equal(p.flags.get("output"), "json");
  t.equal(p.flags.get("field-selector"), "spec.nodeName=x");
  t.throws(() => parseArgs(["get", "nodes", "--frob"]), new UsageError("unknown flag: --frob"));
  t.throws(() => parseArgs(["cordon", "n1", "-o", "json"]), /unknown shorthand flag: 'o' in -o/);
  t.equal(parseDuration("1m30s"), 90_000);
  t.equal(parseDuration("500ms"), 500);
  t.throws(() => parseDuration("soon"), /invalid duration/);
  t.same([5_000, 150_000, 3_600_000 * 3.5, 86_400_000 * 3].map(humanDuration), [
    "5s",
    "2m30s",
    "3h30m",
    "3d",
  ]);
});
