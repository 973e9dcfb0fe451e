import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { createFiles } from "@muster/agent/adapters/files";
import { createKubectl, RKE2_ADMIN_KUBECONFIG, RKE2_KUBECTL } from "@muster/agent/adapters/kubectl";
import t from "tap";
import { fakeExec, ok } from "../helpers/fakes.ts";

t.test("RKE2's kubectl with the admin kubeconfig, both under the files root", async (t) => {
  const root = t.testdir();
  const files = createFiles(root);
  const { exec, calls } = fakeExec(() => ok("node/server-1 cordoned\n"));
  const kubectl = createKubectl(exec, files);
  t.same(await kubectl.present(), { kubectl: false, kubeconfig: false }, "an agent node has neither");
  t.equal(await kubectl.readKubeconfig(), null);

  for (const [p, body] of [
    [RKE2_KUBECTL, "#!/bin/sh\n"],
    [RKE2_ADMIN_KUBECONFIG, "apiVersion: v1\nkind: Config\n"],
  ] as const) {
    mkdirSync(path.dirname(path.join(root, p)), { recursive: true });
    writeFileSync(path.join(root, p), body);
  }
  t.same(await kubectl.present(), { kubectl: true, kubeconfig: true });
  t.equal(await kubectl.readKubeconfig(), "apiVersion: v1\nkind: Config\n");
  const r = await kubectl.run(["cordon", "server-1"], { timeoutMs: 5000 });
  t.equal(r.stdout, "node/server-1 cordoned\n");
  t.same(calls[0]!.cmd, path.join(root, RKE2_KUBECTL));
  t.same(calls[0]!.args, ["--kubeconfig", path.join(root, RKE2_ADMIN_KUBECONFIG), "cordon", "server-1"]);
  t.equal(calls[0]!.opts.timeoutMs, 5000);
  t.equal(calls[0]!.opts.input, undefined, "nothing on stdin");
});
