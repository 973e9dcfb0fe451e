import { chmodSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { runOperator } from "@muster/cli/main";
import t, { type Test } from "tap";
import { ADMIN_TOKEN, makeApp } from "../coordinator/helpers/harness.ts";
import { makeTestTls, WRONG_PIN } from "../coordinator/transport/delivery/helpers/tls-cert.ts";

// login, the stored config and join-tokens against the real coordinator app on a real HTTPS port.

const tls = makeTestTls();
const defaults = {
  server: "https://127.0.0.1:1",
  caFile: "/nonexistent/ca.crt",
  tokenFile: "/nonexistent/admin-token",
};

async function coordinator(t: Test) {
  const h = await makeApp(t, { app: { https: { cert: tls.cert, key: tls.key } } });
  await h.app.listen({ host: "127.0.0.1", port: 0 });
  const port = (h.app.server.address() as { port: number }).port;
  return { ...h, url: `https://127.0.0.1:${port}` };
}

async function muster(argv: string[], env: Record<string, string>) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runOperator(argv, {
    env,
    out: (s) => out.push(s),
    err: (s) => err.push(s),
    defaults,
  });
  return { code, stdout: out.join("\n"), stderr: err.join("\n") };
}

t.test("muster --version", async (t) => {
  const r = await muster(["--version"], {});
  t.equal(r.code, 0);
  t.equal(r.stdout, "0.1.0");
});

t.test("login checks the coordinator, writes a 0600 config; later commands need no flags", async (t) => {
  const c = await coordinator(t);
  const home = t.testdir({ token: `${ADMIN_TOKEN}\n`, "ca.crt": tls.caCert });
  const tokenFile = path.join(home, "token");
  chmodSync(tokenFile, 0o600);
  const env = { HOME: home };
  const config = path.join(home, ".config", "muster", "config.yaml");

  const wrongPin = await muster(
    ["login", "--server", c.url, "--pin", WRONG_PIN, "--token-file", tokenFile],
    env,
  );
  t.equal(wrongPin.code, 1);
  t.match(wrongPin.stderr, /does not match --pin/);
  t.throws(() => statSync(config), "nothing written when the coordinator is not trusted");
  const noTrust = await muster(["login", "--server", c.url, "--token-file", tokenFile], env);
  t.equal(noTrust.code, 2);
  t.match(noTrust.stderr, /login needs --pin sha256\/\/\.\.\. or --ca-file FILE/);

  const login = await muster(["login", "--server", c.url, "--pin", tls.pin, "--token-file", tokenFile], env);
  t.equal(login.code, 0, login.stderr);
  t.match(login.stdout, new RegExp(`logged in to ${c.url} \\(cluster default, empty\\); saved to ${config}`));
  t.equal(statSync(config).mode & 0o777, 0o600, "config.yaml is 0600");
  t.equal(statSync(path.dirname(config)).mode & 0o777, 0o700);
  t.match(readFileSync(config, "utf8"), `pin: sha256//`);

  // No flags, no MUSTER_* variables: the stored config is enough.
  const status = await muster(["status", "-o", "json"], env);
  t.equal(status.code, 0, status.stderr);
  t.equal(JSON.parse(status.stdout).phase, "empty");

  // The environment beats the config: a wrong MUSTER_TOKEN is used, and refused.
  const overridden = await muster(["status"], { ...env, MUSTER_TOKEN: "wrong-token-0123456789abcdef" });
  t.equal(overridden.code, 1);
  t.match(overridden.stderr, /Invalid admin token/);

  // XDG_CONFIG_HOME moves the file; --ca-file is stored as the CA itself.
  const xdg = path.join(home, "xdg");
  const ca = await muster(
    ["login", "--server", c.url, "--ca-file", path.join(home, "ca.crt"), "-o", "json"],
    { XDG_CONFIG_HOME: xdg, MUSTER_TOKEN: ADMIN_TOKEN },
  );
  t.equal(ca.code, 0, ca.stderr);
  t.same(JSON.parse(ca.stdout), {
    server: c.url,
    cluster: "default",
    phase: "empty",
    config: path.join(xdg, "muster", "config.yaml"),
  });
  t.match(readFileSync(path.join(xdg, "muster", "config.yaml"), "utf8"), "-----BEGIN CERTIFICATE-----");
  const nodes = await muster(["nodes", "-o", "json"], { XDG_CONFIG_HOME: xdg });
  t.equal(nodes.code, 0, nodes.stderr);
  t.same(JSON.parse(nodes.stdout), { nodes: [] });
});

t.test("a broken config is one line naming the file", async (t) => {
  const home = t.testdir({ ".config": { muster: { "config.yaml": "server: http://plain\n" } } });
  const r = await muster(["status"], { HOME: home });
  t.equal(r.code, 2);
  t.match(r.stderr, /config\.yaml.*server.*muster login again/);
  t.equal(r.stderr.split("\n").length, 1);
});

t.test("join-tokens lists without secrets and revokes", async (t) => {
  const c = await coordinator(t);
  const env = { MUSTER_SERVER: c.url, MUSTER_PIN: tls.pin, MUSTER_TOKEN: ADMIN_TOKEN };
  const empty = await muster(["join-tokens"], env);
  t.equal(empty.code, 0, empty.stderr);
  t.match(empty.stdout, /no join tokens/);
  const made = await muster(["join-command", "--role", "agent", "-o", "json"], env);
  const { id, token } = JSON.parse(made.stdout) as { id: string; token: string };

  const list = await muster(["join-tokens"], env);
  t.match(list.stdout.split("\n")[0], /^ID +ROLE +STATE +EXPIRES +USES +LAST USED +FLAGS$/);
  t.match(
    list.stdout.split("\n")[1],
    new RegExp(`^${id} +agent +valid +\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d +0 +- *$`),
  );
  t.notMatch(list.stdout, token.split(".")[1]!, "no secret in the list");

  const revoke = await muster(["join-tokens", "revoke", id], env);
  t.equal(revoke.code, 0, revoke.stderr);
  t.match(revoke.stdout, `join token ${id} revoked`);
  const after = await muster(["join-tokens", "-o", "json"], env);
  t.equal(JSON.parse(after.stdout).tokens[0].revoked, true);

  for (const [argv, message] of [
    [["join-tokens", "revoke"], /needs the token ID/],
    [["join-tokens", "revoke", "NOPE!"], /not a join token id/],
    [["join-tokens", "delete", id], /unknown join-tokens action delete/],
  ] as const) {
    const bad = await muster([...argv], env);
    t.equal(bad.code, 2, argv.join(" "));
    t.match(bad.stderr, message);
  }
  const unknown = await muster(["join-tokens", "revoke", "zzzzzz"], env);
  t.equal(unknown.code, 1);
});
