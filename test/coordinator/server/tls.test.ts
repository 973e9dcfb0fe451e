import { X509Certificate } from "node:crypto";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { connect, createServer } from "node:tls";
import { loadOrCreateTls } from "@muster/coordinator/server/tls";
import { spkiPinFromCert, spkiPinFromDer, spkiPinFromPeer } from "@muster/shared";
import t from "tap";

const FILES = ["ca.crt", "ca.key", "server.crt", "server.key"];

t.test("first start generates a CA and a serving cert, 0600, in <state>/tls", async (t) => {
  const stateDir = t.testdir();
  const tls = await loadOrCreateTls({ stateDir, hosts: ["10.1.2.3", "coord.example.com"] });
  t.equal(tls.action, "generated");
  t.equal(statSync(join(stateDir, "tls")).mode & 0o777, 0o700);
  for (const f of FILES) t.equal(statSync(join(stateDir, "tls", f)).mode & 0o777, 0o600, `${f} is 0600`);
  const cert = new X509Certificate(tls.cert);
  const ca = new X509Certificate(tls.caCert!);
  t.ok(cert.verify(ca.publicKey), "serving cert is signed by the CA");
  t.ok(ca.ca, "CA cert is a CA");
  t.notOk(cert.ca);
  for (const san of ["IP Address:10.1.2.3", "DNS:coord.example.com", "DNS:localhost", "IP Address:127.0.0.1"])
    t.match(cert.subjectAltName, san);
  t.match(cert.subjectAltName, `DNS:${hostname().toLowerCase()}`);
  const years = (ms: number) => ms / (365 * 86_400_000);
  t.ok(years(Date.parse(ca.validTo) - Date.now()) > 9.9, "CA valid ~10 years");
  const servingYears = years(Date.parse(cert.validTo) - Date.now());
  t.ok(servingYears > 1.9 && servingYears < 2.1, "serving cert valid ~2 years");
  t.equal(cert.publicKey.asymmetricKeyDetails?.namedCurve, "prime256v1");
  t.equal(tls.pin, spkiPinFromCert(readFileSync(join(stateDir, "tls", "server.crt"))));
  t.match(tls.pin, /^sha256\/\/[A-Za-z0-9+/]{43}=$/);
});

t.test("later starts reuse the files; renewal and new SANs keep the key, so the pin holds", async (t) => {
  const stateDir = t.testdir();
  const first = await loadOrCreateTls({ stateDir, hosts: ["10.1.2.3"] });
  const again = await loadOrCreateTls({ stateDir, hosts: ["10.1.2.3"] });
  t.equal(again.action, "reused");
  t.equal(again.cert, first.cert);
  t.equal(again.pin, first.pin);

  const moved = await loadOrCreateTls({ stateDir, hosts: ["10.9.9.9"] });
  t.equal(moved.action, "renewed", "a new advertise address re-issues the cert");
  t.not(moved.cert, first.cert);
  t.equal(moved.pin, first.pin, "same key, same pin");
  t.match(new X509Certificate(moved.cert).subjectAltName, "IP Address:10.9.9.9");

  const nearExpiry = new Date(Date.now() + 720 * 86_400_000);
  const renewed = await loadOrCreateTls({ stateDir, hosts: ["10.9.9.9"], now: nearExpiry });
  t.equal(renewed.action, "renewed", "re-issued within 30 days of expiry");
  t.equal(renewed.pin, first.pin);
  t.equal(renewed.key, first.key);
  t.equal(renewed.caCert, first.caCert, "the CA is kept");
});

t.test("operator-supplied cert and key are used as given", async (t) => {
  const root = t.testdir();
  const generated = await loadOrCreateTls({ stateDir: join(root, "a"), hosts: [] });
  const other = await loadOrCreateTls({ stateDir: join(root, "b"), hosts: [] });
  const dir = join(root, "a", "tls");
  writeFileSync(join(dir, "c.pem"), generated.cert);
  writeFileSync(join(dir, "k.pem"), generated.key);
  const supplied = await loadOrCreateTls({
    stateDir: dir,
    hosts: [],
    certFile: join(dir, "c.pem"),
    keyFile: join(dir, "k.pem"),
  });
  t.equal(supplied.action, "supplied");
  t.equal(supplied.pin, generated.pin);
  t.equal(supplied.caCert, undefined);
  writeFileSync(join(dir, "wrong.pem"), other.key);
  await t.rejects(
    loadOrCreateTls({
      stateDir: dir,
      hosts: [],
      certFile: join(dir, "c.pem"),
      keyFile: join(dir, "wrong.pem"),
    }),
    /does not belong/,
  );
  await t.rejects(loadOrCreateTls({ stateDir: dir, hosts: [], certFile: join(dir, "c.pem") }), /together/);
});

t.test("the pin is what a TLS client sees", async (t) => {
  const tls = await loadOrCreateTls({ stateDir: t.testdir(), hosts: ["127.0.0.1"] });
  const server = createServer({ cert: tls.cert, key: tls.key }, (s) => s.end());
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  t.teardown(() => server.close());
  const port = (server.address() as { port: number }).port;
  const seen = await new Promise<string>((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port, rejectUnauthorized: false }, () => {
      const peer = socket.getPeerCertificate();
      resolve(spkiPinFromPeer(peer));
      // node:tls `pubkey` is the bare EC point, not the SPKI curl pins: it must not be used.
      t.not(spkiPinFromDer(peer.pubkey!), tls.pin);
      socket.end();
    });
    socket.on("error", reject);
  });
  t.equal(seen, tls.pin);
  // And the chain verifies against our CA for clients that trust it instead of pinning.
  const verified = await new Promise<boolean>((resolve) => {
    const socket = connect({ host: "127.0.0.1", port, ca: tls.caCert!, servername: "localhost" }, () => {
      resolve(socket.authorized);
      socket.end();
    });
    socket.on("error", () => resolve(false));
  });
  t.ok(verified, "CA-verified connection works");
});
