import { createHash } from "node:crypto";
import { expectBody, fetchPinnedCa, rke2Ready } from "@muster/net";
import t from "tap";

const answer = (replies: Record<string, { status: number; body: string } | Error>) => async (url: string) => {
  const r = replies[url];
  if (r === undefined) throw new Error("connection refused");
  if (r instanceof Error) throw r;
  return r;
};

t.test("expectBody: null on 200 and the wanted body, else what answered", async (t) => {
  const get = answer({ "u/ok": { status: 200, body: "ok\n" }, "u/no": { status: 503, body: "not ready" } });
  t.equal(await expectBody(get, "u/ok", "ok"), null);
  t.equal(await expectBody(get, "u/no", "ok"), "u/no answered HTTP 503 not ready");
  t.equal(await expectBody(get, "u/gone", "ok"), "u/gone: connection refused");
});

t.test("rke2Ready: supervisor /ping pong first, then apiserver /readyz ok", async (t) => {
  const sup = answer({ "s/ping": { status: 200, body: "pong" } });
  const api = answer({ "a/readyz": { status: 200, body: "ok" } });
  t.equal(await rke2Ready({ supervisor: sup, apiserver: api }, "s", "a"), null);
  t.equal(await rke2Ready({ supervisor: api, apiserver: api }, "s", "a"), "s/ping: connection refused");
  t.equal(await rke2Ready({ supervisor: sup, apiserver: sup }, "s", "a"), "a/readyz: connection refused");
});

t.test("fetchPinnedCa trusts /cacerts only when it hashes to the token's pin", async (t) => {
  const ca = "-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n";
  const hash = createHash("sha256").update(ca).digest("hex");
  const get = answer({ "s/cacerts": { status: 200, body: ca } });
  t.same(await fetchPinnedCa(get, "s", hash), { ok: true, ca });
  t.same(await fetchPinnedCa(get, "s", "0".repeat(64)), { ok: false, status: 200, reason: "hash-mismatch" });
  const down = answer({ "s/cacerts": { status: 500, body: "" } });
  t.same(await fetchPinnedCa(down, "s", hash), { ok: false, status: 500, reason: "http-status" });
});
