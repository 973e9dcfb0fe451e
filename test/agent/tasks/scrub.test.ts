import { errorLine, scrubSecrets } from "@muster/agent/tasks/scrub";
import t from "tap";

t.test("token-like text is scrubbed; paths, names and kubectl's words survive", async (t) => {
  const join = `K10${"ab".repeat(32)}::server:${"c".repeat(32)}`;
  const cases: Array<[string, string]> = [
    [`token: ${join}`, "token: [redacted]"],
    [`server token ${join} rejected`, "server token [redacted] rejected"],
    ["Authorization: Bearer abc.def-ghi", "Authorization: Bearer [redacted]"],
    ['password="hunter2"', 'password="[redacted]"'],
    ["client-key-data: LS0tLS1CRUdJTg==", "client-key-data: [redacted]"],
    ["sha 0123456789abcdef0123456789abcdef01", "sha [redacted]"],
    ["data QmFzZTY0IGVuY29kZWQgc2VjcmV0IGtleSBtYXRlcmlhbDEyMw== end", "data [redacted] end"],
    ["-----BEGIN EC PRIVATE KEY-----\nMHcCAQEE\n-----END EC PRIVATE KEY-----", "[redacted]"],
  ];
  for (const [input, want] of cases) t.equal(scrubSecrets(input), want, input.slice(0, 30));
  const kept = [
    'Error from server (NotFound): nodes "worker-node-in-the-long-named-datacenter-01" not found',
    "error: unable to read /var/lib/rancher/rke2/server/tls/client-admin.crt",
    "The connection to the server 127.0.0.1:6443 was refused - did you specify the right host or port?",
  ];
  for (const line of kept) t.equal(scrubSecrets(line), line);
});

t.test("errorLine: the error line, not a leading warning; cut to size", async (t) => {
  t.equal(
    errorLine(
      "Warning: ignoring DaemonSet-managed Pods: kube-system/kube-vip\nerror: unable to drain node\n",
    ),
    "error: unable to drain node",
  );
  t.equal(errorLine("Warning: one\nsomething else went wrong\n"), "something else went wrong");
  t.equal(errorLine("Warning: only this\n"), "Warning: only this");
  t.equal(errorLine(""), "");
  t.equal(errorLine(`error: ${"x ".repeat(400)}`, 20).length, 23);
});
