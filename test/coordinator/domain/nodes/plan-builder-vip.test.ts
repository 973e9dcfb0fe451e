import { createHmac } from "node:crypto";
import { buildPlan } from "@muster/coordinator/domain/nodes/plan-builder";
import { registrationAddress } from "@muster/coordinator/domain/planner/planner";
import { ClusterSpecSchema, KUBE_VIP_MANIFEST } from "@muster/shared";
import t from "tap";
import { parseAllDocuments } from "yaml";
import { CLUSTER_TOKEN } from "../../helpers/domain.ts";

// With `vip`, every server's plan carries kube-vip's manifest (and its image when the coordinator
// has it), the VIP is the registration address and in every server's tls-san.

const VIP = "10.0.0.100";
const spec = ClusterSpecSchema.parse({ vip: { address: VIP, interface: "eth1" } });
const SHA = "a".repeat(64);
const digest = (secrets: Record<string, string>) =>
  createHmac("sha256", "plan-key").update(JSON.stringify(secrets)).digest("hex");
const images = (file: string) => (file === "kube-vip-v0.9.2.tar" ? SHA : null);

function plan(role: "server" | "agent", init: boolean, s = spec) {
  return buildPlan({
    spec: s,
    node: { name: init ? "s1" : `${role}-2`, role, address: "10.0.0.12" },
    init,
    token: init ? null : CLUSTER_TOKEN,
    registrationAddress: init ? null : registrationAddress(s, { address: "10.0.0.11" }),
    imageSha256: images,
    digest,
  });
}

function env(content: string): Record<string, unknown> {
  // biome-ignore lint/suspicious/noExplicitAny: the test walks kube-vip's untyped YAML documents
  const docs = parseAllDocuments(content).map((d) => d.toJS() as Record<string, any>);
  const ds = docs.find((d) => d["kind"] === "DaemonSet")!;
  const c = ds["spec"].template.spec.containers[0];
  return Object.fromEntries(
    (c.env as { name: string; value?: string }[]).map((e) => [e.name, e.value ?? "fieldRef"]),
  );
}

t.test("the VIP is the registration address unless the spec names another", async (t) => {
  t.equal(registrationAddress(spec, { address: "10.0.0.11" }), VIP);
  const lb = ClusterSpecSchema.parse({
    registrationAddress: "lb.example",
    vip: { address: VIP, interface: "eth1" },
  });
  t.equal(registrationAddress(lb, { address: "10.0.0.11" }), "lb.example");
  t.equal(registrationAddress(ClusterSpecSchema.parse({}), { address: "10.0.0.11" }), "10.0.0.11");
});

t.test("every server gets the same kube-vip manifest and image; agents get neither", async (t) => {
  const init = plan("server", true);
  const joiner = plan("server", false);
  const agent = plan("agent", false);
  t.same(
    init.manifests.map((m) => m.name),
    [KUBE_VIP_MANIFEST],
    "the init server writes it before it starts",
  );
  t.same(joiner.manifests, init.manifests, "a later server gets the same file");
  t.same(init.images, [{ file: "kube-vip-v0.9.2.tar", sha256: SHA }]);
  t.same(joiner.images, init.images);
  t.same(agent.manifests, []);
  t.notOk("images" in agent);
  t.equal(joiner.config["server"], `https://${VIP}:9345`, "joiners register through the VIP");
  t.equal(agent.config["server"], `https://${VIP}:9345`);
  t.ok((init.config["tls-san"] as string[]).includes(VIP), "VIP in the init server's tls-san");
  t.ok((joiner.config["tls-san"] as string[]).includes(VIP), "VIP in a joiner's tls-san");
});

t.test(
  "the manifest: RBAC, a control-plane DaemonSet, ARP, leader election with the spec's lease",
  async (t) => {
    const s = ClusterSpecSchema.parse({
      vip: {
        address: VIP,
        interface: "eth1",
        kubeVip: {
          version: "v0.8.9",
          image: "registry.local:5000/kube-vip",
          leaseDurationSeconds: 15,
          renewDeadlineSeconds: 10,
          retryPeriodSeconds: 2,
        },
      },
    });
    const content = plan("server", true, s).manifests[0]!.content;
    // biome-ignore lint/suspicious/noExplicitAny: the test walks kube-vip's untyped YAML documents
    const docs = parseAllDocuments(content).map((d) => d.toJS() as Record<string, any>);
    t.same(
      docs.map((d) => `${d["kind"]}/${d["metadata"].name}`),
      [
        "ServiceAccount/kube-vip",
        "ClusterRole/system:kube-vip-role",
        "ClusterRoleBinding/system:kube-vip-binding",
        "DaemonSet/kube-vip-ds",
      ],
    );
    const ds = docs[3]!;
    t.equal(ds["spec"].template.spec.hostNetwork, true);
    t.equal(ds["spec"].template.spec.containers[0].image, "registry.local:5000/kube-vip:v0.8.9");
    const e = env(content);
    t.match(e, {
      vip_arp: "true",
      cp_enable: "true",
      vip_leaderelection: "true",
      vip_interface: "eth1",
      address: VIP,
      port: "6443",
      vip_leasename: "plndr-cp-lock",
      vip_leaseduration: "15",
      vip_renewdeadline: "10",
      vip_retryperiod: "2",
      vip_nodename: "fieldRef",
    });
    t.notOk("images" in plan("server", true, s), "no tarball for a version the coordinator lacks");
    t.match(
      env(plan("server", true).manifests[0]!.content),
      {
        vip_leaseduration: "5",
        vip_renewdeadline: "3",
        vip_retryperiod: "1",
      },
      "default lease 5/3/1 s",
    );
  },
);

t.test("kube-vip settings are validated", async (t) => {
  const bad = (kubeVip: Record<string, unknown>) =>
    ClusterSpecSchema.safeParse({ vip: { address: VIP, interface: "eth1", kubeVip } }).success;
  t.notOk(bad({ leaseDurationSeconds: 3, renewDeadlineSeconds: 3 }), "duration must exceed renew");
  t.notOk(bad({ renewDeadlineSeconds: 2, retryPeriodSeconds: 2 }), "renew must exceed 1.2 x retry");
  t.notOk(bad({ version: "latest" }));
  t.notOk(bad({ image: "ghcr.io/kube-vip/kube-vip:v1" }), "no tag in the image");
  t.ok(bad({ image: "registry.local:5000/mirror/kube-vip" }));
});

t.test("no VIP: no manifest, no image", async (t) => {
  const s = ClusterSpecSchema.parse({});
  const p = plan("server", true, s);
  t.same(p.manifests, []);
  t.notOk("images" in p);
});
