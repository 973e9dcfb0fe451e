import { apiServerUrl, rewriteKubeconfigServer } from "@muster/shared";
import t from "tap";
import { parse } from "yaml";

t.test("every cluster's server is rewritten; everything else is kept", async (t) => {
  const text = `# admin
apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: QQ==
    server: https://127.0.0.1:6443
  name: default
- cluster:
    server: https://10.0.0.1:6443
  name: other
users:
- name: default
  user:
    client-key-data: S0VZ
`;
  const out = rewriteKubeconfigServer(text, apiServerUrl("10.9.0.100"));
  const doc = parse(out);
  t.same(
    doc.clusters.map((c: { cluster: { server: string } }) => c.cluster.server),
    ["https://10.9.0.100:6443", "https://10.9.0.100:6443"],
  );
  t.equal(doc.clusters[0].cluster["certificate-authority-data"], "QQ==");
  t.equal(doc.users[0].user["client-key-data"], "S0VZ");
  t.match(out, /^# admin/, "comments kept");
});

t.test("IPv6 literals get brackets; non-kubeconfigs are refused", async (t) => {
  t.equal(apiServerUrl("fd00::1"), "https://[fd00::1]:6443");
  t.equal(apiServerUrl("k8s.example.com"), "https://k8s.example.com:6443");
  t.throws(() => rewriteKubeconfigServer("kind: Config\n", "https://x:6443"), /names no cluster/);
  t.throws(() => rewriteKubeconfigServer("a: [\n", "https://x:6443"), /not valid YAML/);
});
