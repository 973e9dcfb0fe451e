import { chmodSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { runOperator } from "@muster/cli/main";
import t from "tap";
import { makeTestTls } from "../coordinator/transport/delivery/helpers/tls-cert.ts";
import { ADMIN_TOKEN, startFakeApi } from "./helpers/fake-api.ts";

// muster kubeconfig [-o FILE] (docs/reference.md#kubeconfig).

const tls = makeTestTls();
const api = await startFakeApi(tls);
t.teardown(() => api.close());
const dir = t.testdir({ "ca.crt": tls.caCert });
const CA = path.join(dir, "ca.crt");

async function muster(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runOperator([...argv, "--ca-file", CA], {
    env: { MUSTER_SERVER: api.url, MUSTER_TOKEN: ADMIN_TOKEN },
    out: (s) => out.push(s),
    err: (s) => err.push(s),
    defaults: { server: "https://127.0.0.1:1", caFile: "/nonexistent/ca.crt", tokenFile: "/nonexistent/t" },
  });
  return { code, stdout: out.join("\n"), stderr: err.join("\n") };
}

t.test("kubeconfig: stdout by default, -o json, -o FILE written 0600", async (t) => {
  const r = await muster(["kubeconfig"]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /server: https:\/\/10\.9\.0\.100:6443/);
  t.match(JSON.parse((await muster(["kubeconfig", "-o", "json"])).stdout), { kubeconfig: /kind: Config/ });

  const file = path.join(dir, "admin.yaml");
  writeFileSync(file, "old");
  chmodSync(file, 0o644); // an older, wider file is replaced, not reused
  const w = await muster(["kubeconfig", "-o", file]);
  t.equal(w.code, 0, w.stderr);
  t.equal(w.stdout, "", "nothing on stdout");
  t.match(readFileSync(file, "utf8"), /server: https:\/\/10\.9\.0\.100:6443/);
  t.equal(statSync(file).mode & 0o777, 0o600, "mode 0600");
  t.match(w.stderr, /wrote the admin kubeconfig/);

  const missing = await muster(["kubeconfig", "-o", path.join(dir, "no", "such", "dir", "k.yaml")]);
  t.equal(missing.code, 1);
  t.match(
    missing.stderr,
    /cannot write the kubeconfig to .*: its directory .* does not exist; create it or pass another -o FILE/,
  );
  t.equal((await muster(["kubeconfig", "extra"])).code, 2, "no positionals");
});
