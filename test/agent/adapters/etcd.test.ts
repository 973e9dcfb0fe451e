import { mkdirSync, writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import {
  createEtcdClient,
  decimalIdToHex,
  ETCD_TLS,
  EtcdError,
  hexIdToDecimal,
} from "@muster/agent/adapters/etcd";
import { createFiles } from "@muster/agent/adapters/files";
import t, { type Test } from "tap";

t.test("member ids: decimal (gateway) <-> hex (muster) through BigInt, exact beyond 2^53", async (t) => {
  // 0xab54a98ceb1f0ad2 as a JS number would round to ...0ad0 (2^53 is ~9.0e15; this is ~1.2e19).
  t.equal(decimalIdToHex("12345678901234567890"), "ab54a98ceb1f0ad2");
  t.equal(hexIdToDecimal("ab54a98ceb1f0ad2"), "12345678901234567890");
  t.not(Number("12345678901234567890").toString(16), "ab54a98ceb1f0ad2", "a Number would have lost digits");
  t.equal(decimalIdToHex("18446744073709551615"), "ffffffffffffffff", "uint64 max");
  t.equal(hexIdToDecimal("ffffffffffffffff"), "18446744073709551615");
  t.equal(decimalIdToHex("1"), "1");
  t.throws(() => decimalIdToHex("18446744073709551616"), EtcdError, "beyond uint64");
  t.throws(() => decimalIdToHex("12ab"), EtcdError);
  t.throws(() => hexIdToDecimal("xyz"));
});

/** A stand-in gateway on loopback: answers each route from `routes` (a status and a JSON body). */
async function gateway(t: Test, routes: Record<string, [number, unknown]>) {
  const seen: Array<{ url: string; body: unknown }> = [];
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => {
      body += c;
    });
    req.on("end", () => {
      seen.push({ url: req.url ?? "", body: JSON.parse(body || "null") });
      const [status, json] = routes[req.url ?? ""] ?? [404, { error: "Not Found" }];
      res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(json));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

t.test(
  "gateway answers are parsed (ids to hex, omitted fields defaulted) and errors keep etcd's words",
  async (t) => {
    const g = await gateway(t, {
      "/v3/cluster/member/list": [
        200,
        {
          header: { member_id: "12345678901234567890" },
          members: [
            {
              ID: "12345678901234567890",
              name: "server-1",
              peerURLs: ["http://10.0.0.11:2380"],
              clientURLs: ["http://10.0.0.11:2379"],
            },
            { ID: "42", peerURLs: ["http://10.0.0.12:2380"], isLearner: true },
          ],
        },
      ],
      "/v3/maintenance/status": [200, { header: { member_id: "42" }, leader: "12345678901234567890" }],
      "/v3/maintenance/transfer-leadership": [500, { error: "etcdserver: not leader", code: 2 }],
      "/v3/cluster/member/remove": [200, { header: { member_id: "42" }, members: [] }],
    });
    const conn = await createEtcdClient(createFiles(t.testdir())).connect();
    t.equal(conn.tls, false, "no client certificate: plain http");
    t.equal(conn.local, "http://127.0.0.1:2379");
    t.same(await conn.memberList(g.url), [
      {
        id: "ab54a98ceb1f0ad2",
        name: "server-1",
        peerURLs: ["http://10.0.0.11:2380"],
        clientURLs: ["http://10.0.0.11:2379"],
        isLearner: false,
      },
      { id: "2a", name: "", peerURLs: ["http://10.0.0.12:2380"], clientURLs: [], isLearner: true },
    ]);
    t.same(await conn.status(g.url), { memberId: "2a", leaderId: "ab54a98ceb1f0ad2" });
    await t.rejects(conn.moveLeader("2a", g.url), { name: "EtcdError", message: "etcdserver: not leader" });
    await conn.memberRemove("ab54a98ceb1f0ad2", g.url);
    t.same(
      g.seen.filter((s) => s.url.includes("transfer") || s.url.includes("remove")).map((s) => s.body),
      [{ targetID: "42" }, { ID: "12345678901234567890" }],
      "request bodies carry decimal ids",
    );
  },
);

t.test("a malformed answer is refused, not trusted", async (t) => {
  const g = await gateway(t, { "/v3/maintenance/status": [200, { header: {}, leader: "x" }] });
  const conn = await createEtcdClient(createFiles(t.testdir())).connect();
  await t.rejects(conn.status(g.url), { name: "EtcdError", message: /malformed status/ });
});

t.test("with RKE2's etcd client certificate: https only, never a downgrade to http", async (t) => {
  const root = t.testdir();
  for (const p of Object.values(ETCD_TLS)) {
    mkdirSync(path.dirname(path.join(root, p)), { recursive: true });
    writeFileSync(path.join(root, p), "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n");
  }
  const conn = await createEtcdClient(createFiles(root)).connect();
  t.equal(conn.tls, true);
  t.equal(conn.local, "https://127.0.0.1:2379");
  t.ok(conn.allows("https://10.0.0.12:2379"));
  t.notOk(conn.allows("http://10.0.0.12:2379"));
  await t.rejects(
    conn.status("http://10.0.0.12:2379"),
    /refusing http:\/\/10.0.0.12:2379: this node talks to etcd over https only/,
  );
});

t.test("nothing listening: a connection error naming the endpoint", async (t) => {
  const conn = await createEtcdClient(createFiles(t.testdir())).connect();
  await t.rejects(conn.status("http://127.0.0.1:1"), /etcd at http:\/\/127.0.0.1:1: .*ECONNREFUSED/);
});
