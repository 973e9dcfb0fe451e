import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { createRegistrationProbe } from "@muster/coordinator/adapters/registration-probe";
import { createRegistrationMonitor } from "@muster/coordinator/domain/registration/monitor";
import { caHash } from "@muster/shared";
import t from "tap";
import { selfSignedCert } from "../../helpers/self-signed-cert.ts";
import { captureLogger } from "../helpers/domain.ts";

// The default probe against a local stand-in for RKE2's supervisor (9345) and apiserver (6443).

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as AddressInfo).port;
}

t.test("probe: pins the CA from the token, then needs pong and ok", async (t) => {
  const tls = selfSignedCert("rke2-test");
  const replies = { ping: "pong", readyz: [200, "ok"] as [number, string] };
  const supervisor = createServer(tls, (req, res) => {
    if (req.url === "/cacerts") res.end(tls.cert);
    else if (req.url === "/ping") res.end(replies.ping);
    else res.writeHead(404).end();
  });
  const apiserver = createServer(tls, (req, res) => {
    if (req.url === "/readyz") res.writeHead(replies.readyz[0]).end(replies.readyz[1]);
    else res.writeHead(404).end();
  });
  const ports = { supervisor: await listen(supervisor), apiserver: await listen(apiserver) };
  t.teardown(() => {
    supervisor.close();
    apiserver.close();
  });
  const { logger, logs } = captureLogger();
  let token: string | null = `K10${caHash(tls.cert)}::server:${"a".repeat(32)}`;
  const probe = createRegistrationProbe({ token: () => token, logger, ports, timeoutMs: 2000 });

  t.equal(await probe("127.0.0.1"), true, "healthy with a matching CA");
  replies.ping = "nope";
  t.equal(await probe("127.0.0.1"), false, "ping must say pong");
  replies.ping = "pong";
  replies.readyz = [503, "etcd not ready"];
  t.equal(await probe("127.0.0.1"), false, "readyz must be 200 ok");
  replies.readyz = [200, "ok"];

  token = `K10${"0".repeat(64)}::server:${"a".repeat(32)}`;
  t.equal(await probe("127.0.0.1"), false, "a CA the token does not pin is not trusted");
  t.ok(logs.some((l) => l.includes("serves a CA the cluster token does not pin")));

  token = "bare-password-token";
  t.equal(await probe("127.0.0.1"), true, "a bare password skips CA verification");
  t.equal(await probe("127.0.0.1"), true);
  t.equal(logs.filter((l) => l.includes("bare password")).length, 1, "warned once");

  token = null;
  t.equal(await probe("127.0.0.1"), false, "no token, nothing to verify against");
  t.notOk(logs.join("\n").includes("a".repeat(32)), "the token is never logged");
});

t.test("probe: nothing listening is unhealthy, not an exception", async (t) => {
  const { logger } = captureLogger();
  const probe = createRegistrationProbe({
    token: () => "pw",
    logger,
    ports: { supervisor: 1, apiserver: 1 },
    timeoutMs: 500,
  });
  t.equal(await probe("127.0.0.1"), false);
});

t.test("monitor: reports per address, calls back on change, resets when the address moves", async (t) => {
  const { logger } = captureLogger();
  const answers = new Map<string, boolean>([["10.0.0.1", true]]);
  let changes = 0;
  const probed: string[] = [];
  const monitor = createRegistrationMonitor({
    probe: async (a) => {
      probed.push(a);
      return answers.get(a) ?? false;
    },
    logger,
    onChange: () => changes++,
    fastMs: 10_000,
    slowMs: 10_000,
  });
  t.teardown(() => monitor.stop());
  t.equal(monitor.health("10.0.0.1"), "unknown");
  monitor.watch("10.0.0.1", true);
  await monitor.refresh();
  t.equal(monitor.health("10.0.0.1"), "healthy");
  t.equal(monitor.health("10.0.0.2"), "unknown", "an answer is only for the address probed");
  t.equal(changes, 1);
  await monitor.refresh();
  t.equal(changes, 1, "no callback when nothing changed");
  answers.set("10.0.0.1", false);
  await monitor.refresh();
  t.equal(monitor.health("10.0.0.1"), "unhealthy");
  t.equal(changes, 2);
  monitor.watch("10.0.0.2", false);
  t.equal(monitor.health("10.0.0.2"), "unknown", "a new address starts unknown");
  monitor.watch(null, false);
  await monitor.refresh();
  t.same(new Set(probed), new Set(["10.0.0.1"]), "nothing probed without an address");
});
