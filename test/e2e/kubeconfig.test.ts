// The admin kubeconfig from GET /v1/kubeconfig works from another machine: its server is the
// registration address, its CA verifies the simulated API server's certificate there and its
// system:admin client certificate is accepted (docs/reference.md#kubeconfig).
import { mkdir, writeFile } from "node:fs/promises";
import t from "tap";
import { parse } from "yaml";
import { cannotRun, enrol, startCluster } from "./scenario.ts";

const NAMES = ["server-1", "server-2", "agent-1"];

const reason = cannotRun();
t.test(
  "the kubeconfig reaches the API through the registration address",
  { skip: reason ?? false },
  async (t) => {
    const cluster = await startCluster(t, { servers: 2, agents: 1 });
    await enrol(t, cluster, NAMES);
    await cluster.waitForNodes(NAMES, "joined", 240_000);
    const { registrationAddress } = await cluster.cluster();
    t.ok(registrationAddress, "the cluster has a registration address");

    const { kubeconfig } = await cluster.api.get<{ kubeconfig: string }>("/v1/kubeconfig");
    const doc = parse(kubeconfig);
    const server: string = doc.clusters[0].cluster.server;
    t.equal(server, `https://${registrationAddress}:6443`, "server is the registration address");
    const b64 = (s: string) => Buffer.from(s, "base64").toString("utf8");
    const ca = b64(doc.clusters[0].cluster["certificate-authority-data"]);
    const user = doc.users[0].user;
    t.match(ca, /BEGIN CERTIFICATE/);

    // From the agent machine (not where the file was written): verify with the kubeconfig's CA (curl
    // checks the address against the certificate's SANs) and authenticate with its client certificate.
    const via = cluster.world.node("agent-1");
    await mkdir(via.path("/tmp/kc"), { recursive: true });
    await writeFile(via.path("/tmp/kc/ca.crt"), ca);
    await writeFile(via.path("/tmp/kc/client.crt"), b64(user["client-certificate-data"]));
    await writeFile(via.path("/tmp/kc/client.key"), b64(user["client-key-data"]), { mode: 0o600 });
    const curl = (path: string, withCert: boolean) =>
      via.exec(
        "curl",
        [
          "-sS",
          "-w",
          "\n%{http_code}",
          "--cacert",
          "/tmp/kc/ca.crt",
          ...(withCert ? ["--cert", "/tmp/kc/client.crt", "--key", "/tmp/kc/client.key"] : []),
          `${server}${path}`,
        ],
        { reject: false },
      );
    const version = await curl("/version", true);
    t.equal(version.exitCode, 0, "TLS verified with the kubeconfig's CA", { stderr: version.stderr });
    t.match(version.stdout, /gitVersion/);
    const nodes = await curl("/api/v1/nodes", true);
    t.match(nodes.stdout, /\n200$/, "system:admin lists the nodes");
    const names = JSON.parse(nodes.stdout.replace(/\n\d+$/, "")).items.map(
      (i: { metadata: { name: string } }) => i.metadata.name,
    );
    t.same(names.sort(), [...NAMES].sort(), "every node is there");
    const secrets = await curl("/api/v1/namespaces/kube-system/secrets", true);
    t.match(secrets.stdout, /\n200$/, "system:admin reads secrets");
    const anonymous = await curl("/api/v1/namespaces/kube-system/secrets", false);
    t.match(anonymous.stdout, /\n401$/, "without the client certificate: 401");
  },
);
