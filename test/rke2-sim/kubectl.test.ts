// The kubectl stand-in at <data-dir>/bin/kubectl against the simulated API (issue: day two): the admin
// kubeconfig servers write, get/cordon/uncordon/drain/annotate/label/delete/version with kubectl's
// output and exit statuses, the simulated pods drain treats differently, and kubectl's failure when the
// local apiserver is down.
import { mkdtempSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import t from "tap";
import { commandExists, GiveUp, get, removeUnlessFailed, SimNode, waitFor } from "./testkit.ts";

interface PodJson {
  metadata: {
    name: string;
    namespace: string;
    ownerReferences?: { kind: string }[];
    annotations?: Record<string, string>;
  };
  spec: { nodeName?: string };
  status: { phase: string };
}

if (!commandExists("etcd") || !commandExists("etcdctl")) {
  t.plan(0, "etcd/etcdctl not installed (Debian etcd-server, etcd-client)");
} else {
  const root = mkdtempSync(path.join(tmpdir(), "rke2-sim-kubectl-"));
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
  const ip = (i: number) => `127.87.3.${i}`;
  const heartbeat = { RKE2_SIM_HEARTBEAT_SECONDS: "2" };
  const k1 = start({
    role: "server",
    name: "k1",
    ip: ip(1),
    config: { token: "kubectl-test-pw-0001" },
    env: heartbeat,
  });
  const ready = (n: SimNode) =>
    waitFor(`${n.spec.name} up`, () => {
      if (n.exitCode !== undefined) throw new GiveUp(`${n.spec.name} exited ${n.exitCode}:\n${n.log()}`);
      return n.log().includes("is up and running");
    });
  const pods = async (...args: string[]) =>
    JSON.parse((await k1.kubectl("get", "pods", "-A", "-o", "json", ...args)).stdout).items as PodJson[];

  t.test("servers write the admin kubeconfig and install kubectl", async (t) => {
    await ready(k1);
    const kubeconfig = path.join(k1.dataDir, "rke2.yaml");
    t.equal(statSync(kubeconfig).mode & 0o777, 0o600, "rke2.yaml is 0600 by default (write-kubeconfig-mode)");
    t.ok(
      statSync(path.join(k1.dataDir, "bin", "kubectl")).mode & 0o100,
      "kubectl is executable in data-dir/bin",
    );
    const v = await k1.kubectl("version");
    t.equal(v.code, 0);
    t.match(
      v.stdout,
      /^Client Version: v1\.33\.5\+rke2r1\nKustomize Version: v5\.6\.0\nServer Version: v1\.33\.5\+rke2r1\n$/,
    );
    const anonymous = await get(`https://${ip(1)}:6443/api/v1/namespaces/kube-system/secrets`);
    t.equal(anonymous.status, 401, "without the kubeconfig's client certificate the API answers 401");
  });

  t.test("get nodes: table, wide, json, one by name, not found", async (t) => {
    const ka = start({
      role: "agent",
      name: "ka",
      ip: ip(10),
      config: { server: `https://${ip(1)}:9345`, token: k1.token() },
      env: heartbeat,
    });
    await ready(ka);
    const table = await k1.kubectl("get", "nodes");
    t.equal(table.code, 0);
    t.match(table.stdout, /^NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION\n/);
    t.match(table.stdout, /\nk1\s+Ready\s+control-plane,etcd,master\s+\S+\s+v1\.33\.5\+rke2r1\n/);
    t.match(table.stdout, /\nka\s+Ready\s+<none>\s+/);
    t.match((await k1.kubectl("get", "nodes", "-o", "wide")).stdout, /INTERNAL-IP[\s\S]*127\.87\.3\.10/);
    const one = JSON.parse((await k1.kubectl("get", "node", "k1", "-o", "json")).stdout);
    t.equal(one.kind, "Node");
    t.equal(one.metadata.annotations["etcd.rke2.cattle.io/node-name"], "k1", "servers carry etcd node-name");
    t.equal(one.metadata.annotations["etcd.rke2.cattle.io/node-address"], ip(1), "and node-address");
    const agent = JSON.parse((await k1.kubectl("get", "node", "ka", "-o", "json")).stdout);
    t.notOk(agent.metadata.annotations["etcd.rke2.cattle.io/node-name"], "agents do not");
    const missing = await k1.kubectl("get", "node", "nope");
    t.equal(missing.code, 1);
    t.equal(missing.stderr, 'Error from server (NotFound): nodes "nope" not found\n');
  });

  t.test("unknown verbs, flags and types fail like kubectl", async (t) => {
    const verb = await k1.kubectl("frobnicate");
    t.equal(verb.code, 1);
    t.match(verb.stderr, /^error: unknown command "frobnicate" for "kubectl"/);
    const flag = await k1.kubectl("get", "nodes", "--frob");
    t.equal(flag.code, 1);
    t.equal(flag.stderr, "error: unknown flag: --frob\nSee 'kubectl get --help' for usage.\n");
    const type = await k1.kubectl("get", "widgets");
    t.equal(type.code, 1);
    t.match(type.stderr, /the server doesn't have a resource type "widgets"/);
  });

  t.test("the simulated pods: static control plane, DaemonSet, workloads", async (t) => {
    const all = await waitFor("workloads scheduled", async () => {
      const p = await pods();
      return p.filter((x) => x.metadata.name.startsWith("rke2-coredns")).every((x) => x.spec.nodeName) &&
        p.length >= 10
        ? p
        : null;
    });
    const names = all.map((p) => p.metadata.name);
    for (const s of ["etcd-k1", "kube-apiserver-k1", "kube-scheduler-k1", "kube-proxy-k1", "kube-proxy-ka"]) {
      t.ok(names.includes(s), `${s} (mirror pod)`);
    }
    t.equal(
      all.filter((p) => p.metadata.name.startsWith("rke2-canal-")).length,
      2,
      "one canal DaemonSet pod per node",
    );
    t.equal(
      all.filter((p) => p.metadata.name.startsWith("rke2-coredns-rke2-coredns-")).length,
      2,
      "two coredns replicas",
    );
    const onKa = (await pods("--field-selector", "spec.nodeName=ka")).map((p) => p.metadata.name);
    t.ok(
      onKa.length >= 2 && onKa.every((n) => all.find((p) => p.metadata.name === n)?.spec.nodeName === "ka"),
      "--field-selector spec.nodeName=X",
    );
    const table = await k1.kubectl("get", "pods", "-A");
    t.match(table.stdout, /^NAMESPACE\s+NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\n/);
  });

  t.test("cordon and uncordon set spec.unschedulable, and heartbeats keep it", async (t) => {
    t.equal((await k1.kubectl("cordon", "ka")).stdout, "node/ka cordoned\n");
    t.equal((await k1.kubectl("cordon", "ka")).stdout, "node/ka already cordoned\n");
    // Longer than a heartbeat (2 s here): the kubelet's status updates must not undo the cordon.
    await new Promise((r) => setTimeout(r, 3000));
    const node = JSON.parse((await k1.kubectl("get", "node", "ka", "-o", "json")).stdout);
    t.equal(node.spec.unschedulable, true);
    t.match((await k1.kubectl("get", "nodes")).stdout, /ka\s+Ready,SchedulingDisabled/);
    t.equal((await k1.kubectl("uncordon", "ka")).stdout, "node/ka uncordoned\n");
    const after = JSON.parse((await k1.kubectl("get", "node", "ka", "-o", "json")).stdout);
    t.notOk(after.spec.unschedulable);
  });

  t.test(
    "drain: refuses DaemonSet and emptyDir pods without the flags, then evicts and reschedules",
    async (t) => {
      const target = (await pods()).find((p) => p.metadata.name.startsWith("rke2-coredns"))!.spec.nodeName!;
      const other = target === "k1" ? "ka" : "k1";
      const refused = await k1.kubectl("drain", target);
      t.equal(refused.code, 1, "plain drain fails");
      t.match(
        refused.stderr,
        /cannot delete DaemonSet-managed Pods \(use --ignore-daemonsets to ignore\): kube-system\/rke2-canal-/,
      );
      const evicted = (await pods("--field-selector", `spec.nodeName=${target}`)).filter(
        (p) =>
          !p.metadata.annotations?.["kubernetes.io/config.mirror"] &&
          p.metadata.ownerReferences?.[0]?.kind !== "DaemonSet",
      );
      t.ok(evicted.length > 0, `${target} runs workload pods`);
      const r = await k1.kubectl(
        "drain",
        target,
        "--ignore-daemonsets",
        "--delete-emptydir-data",
        "--timeout=60s",
      );
      t.equal(r.code, 0, r.stderr);
      t.match(r.stdout, new RegExp(`^node/${target} already cordoned\\n`));
      for (const p of evicted) t.match(r.stdout, `evicting pod ${p.metadata.namespace}/${p.metadata.name}\n`);
      t.match(r.stdout, new RegExp(`node/${target} drained\\n$`));
      t.match(r.stderr, /Warning: ignoring DaemonSet-managed Pods: kube-system\/rke2-canal-/);
      const left = await pods("--field-selector", `spec.nodeName=${target}`);
      t.ok(
        left.every(
          (p) =>
            p.metadata.annotations?.["kubernetes.io/config.mirror"] ||
            p.metadata.ownerReferences?.[0]?.kind === "DaemonSet",
        ),
        "only mirror and DaemonSet pods remain",
      );
      const moved = await waitFor("replacements scheduled", async () => {
        const all = await pods();
        const coredns = all.filter((p) => p.metadata.name.startsWith("rke2-coredns-rke2-coredns-"));
        return coredns.length === 2 &&
          coredns.every((p) => p.spec.nodeName === other && p.status.phase === "Running")
          ? coredns
          : null;
      });
      t.equal(moved.length, 2, `both coredns replicas run on ${other} now`);
      t.equal(
        JSON.parse((await k1.kubectl("get", "node", target, "-o", "json")).stdout).spec.unschedulable,
        true,
        "drained node stays cordoned",
      );
      await k1.kubectl("uncordon", target);
    },
  );

  t.test("annotate and label: --overwrite rules, removal with k-", async (t) => {
    t.equal(
      (await k1.kubectl("annotate", "node", "ka", "muster.dev/role=worker")).stdout,
      "node/ka annotated\n",
    );
    const clash = await k1.kubectl("annotate", "node", "ka", "muster.dev/role=other");
    t.equal(clash.code, 1);
    t.match(
      clash.stderr,
      /--overwrite is false but found the following declared annotation\(s\): 'muster.dev\/role' already has a value \(worker\)/,
    );
    t.equal((await k1.kubectl("annotate", "node", "ka", "muster.dev/role=other", "--overwrite")).code, 0);
    t.equal((await k1.kubectl("label", "node", "ka", "tier=edge")).stdout, "node/ka labeled\n");
    const node = JSON.parse((await k1.kubectl("get", "node", "ka", "-o", "json")).stdout);
    t.equal(node.metadata.annotations["muster.dev/role"], "other");
    t.equal(node.metadata.labels.tier, "edge");
    await k1.kubectl("label", "node", "ka", "tier-");
    t.notOk(
      JSON.parse((await k1.kubectl("get", "node", "ka", "-o", "json")).stdout).metadata.labels.tier,
      "k- removes",
    );
  });

  t.test("secrets: the node-password secrets, listed and deleted", async (t) => {
    const list = await k1.kubectl("get", "secret", "-n", "kube-system");
    t.match(list.stdout, /^NAME\s+TYPE\s+DATA\s+AGE\n/);
    t.match(list.stdout, /\nk1\.node-password\.rke2\s+Opaque\s+1\s+/);
    t.match(list.stdout, /\nka\.node-password\.rke2\s+Opaque\s+1\s+/);
    const secret = JSON.parse(
      (await k1.kubectl("get", "secret", "-n", "kube-system", "ka.node-password.rke2", "-o", "json")).stdout,
    );
    t.match(
      Buffer.from(secret.data.hash, "base64").toString(),
      /^\$1:[0-9a-f]+:15:8:1:[0-9a-f]{64}$/,
      "an scrypt hash, never the password",
    );
    const del = await k1.kubectl("delete", "secret", "-n", "kube-system", "ka.node-password.rke2");
    t.equal(del.stdout, 'secret "ka.node-password.rke2" deleted\n');
    t.equal((await k1.kubectl("get", "secret", "-n", "kube-system", "ka.node-password.rke2")).code, 1);
  });

  t.test("with the local apiserver down kubectl fails as kubectl does", async (t) => {
    k1.kill();
    await k1.exited;
    const r = await k1.kubectl("get", "nodes");
    t.equal(r.code, 1);
    t.equal(
      r.stderr,
      `The connection to the server ${ip(1)}:6443 was refused - did you specify the right host or port?\n`,
    );
  });
}
