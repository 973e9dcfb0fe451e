import { ApiError, answerWords, createApi, isUnauthorized, UNREACHABLE } from "@muster/console/model/api";
import t from "tap";

// The console's fetch wrapper against a recording fetch that answers real Response objects.
function recorder(answer: (path: string, init: RequestInit) => Response | Promise<Response>) {
  const calls: Array<{ path: string; init: RequestInit }> = [];
  const fetch = async (path: string, init: RequestInit = {}) => {
    calls.push({ path, init });
    return answer(path, init);
  };
  return { calls, fetch };
}
const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });

t.test("sends the admin token as Bearer and JSON bodies with their type", async (t) => {
  const r = recorder(() => json(201, { id: "abc123" }));
  const api = createApi("tok-1", r.fetch);
  t.same(await api.send("POST", "/v1/join-tokens", { role: "agent" }), { id: "abc123" });
  const { path, init } = r.calls[0]!;
  t.equal(path, "/v1/join-tokens");
  t.equal(init.method, "POST");
  t.equal((init.headers as Record<string, string>)["authorization"], "Bearer tok-1");
  t.equal((init.headers as Record<string, string>)["content-type"], "application/json");
  t.equal(init.body, '{"role":"agent"}');
  t.equal(init.credentials, "omit", "no cookies: the token is the only credential");
  await api.get("/v1/cluster");
  t.notOk((r.calls[1]!.init.headers as Record<string, string>)["content-type"], "no body, no content type");
  t.equal(r.calls[1]!.init.body, undefined);
});

t.test("a refusal keeps the contract's code, message and details verbatim", async (t) => {
  const details = [{ serversHealthyNow: 3, after: 2, quorum: 2, note: "keeps quorum" }];
  const api = createApi(
    "t",
    recorder(() =>
      json(409, { error: { code: "QUORUM_GUARD", message: "removing s1 would leave 1 of 2", details } }),
    ).fetch,
  );
  const err = await api.send("DELETE", "/v1/nodes/s1").catch((e: unknown) => e);
  t.ok(err instanceof ApiError);
  t.match(err, { status: 409, code: "QUORUM_GUARD", message: "removing s1 would leave 1 of 2" });
  t.same((err as ApiError).details, details);
  t.notOk(isUnauthorized(err));
});

t.test("401 is recognised; a body that is not the contract's still gives a message", async (t) => {
  const unauthorized = await createApi(
    "bad",
    recorder(() => json(401, { error: { code: "UNAUTHORIZED", message: "Invalid admin token" } })).fetch,
  )
    .get("/v1/cluster")
    .catch((e: unknown) => e);
  t.ok(isUnauthorized(unauthorized));
  const proxy = await createApi(
    "t",
    recorder(() => new Response("<html>bad gateway</html>", { status: 502, statusText: "Bad Gateway" }))
      .fetch,
  )
    .get("/v1/cluster")
    .catch((e: unknown) => e);
  t.match(proxy, { status: 502, code: "HTTP_ERROR", message: answerWords(502) });
});

t.test("an answer without an error body is put in words with what to do, never a status code", async (t) => {
  const table: Array<[number, RegExp]> = [
    [401, /did not accept the admin token\. Sign in again/],
    [403, /does not allow this/],
    [404, /older muster than this page\. Reload/],
    [429, /Wait a moment and try again/],
    [500, /failed while answering\. See its log \(journalctl -u muster-coordinator\)/],
    [502, /a proxy or load balancer\) could not reach it\. Check that the coordinator runs/],
    [503, /a proxy or load balancer/],
    [504, /a proxy or load balancer/],
    [418, /refused the request without saying why\. See its log/],
  ];
  for (const [status, words] of table) {
    const m = answerWords(status);
    t.match(m, words, `${status}`);
    t.notMatch(m, /\bHTTP\b|\b[45]\d\d\b|status code/i, `${status}: no HTTP term or code`);
  }
  t.match(UNREACHABLE, /check that it runs/);
  t.notMatch(UNREACHABLE, /\bHTTP\b|ECONN/);
});

t.test("getIfPresent: null on 404, the body on 200, other errors thrown", async (t) => {
  let status = 404;
  const api = createApi(
    "t",
    recorder(() =>
      status === 200 ? json(200, { servers: [] }) : json(status, { error: { code: "X", message: "m" } }),
    ).fetch,
  );
  t.equal(await api.getIfPresent("/v1/whatif"), null);
  status = 200;
  t.same(await api.getIfPresent("/v1/whatif"), { servers: [] });
  status = 500;
  await t.rejects(api.getIfPresent("/v1/whatif"), { status: 500, code: "X" });
});

t.test("network failures become status 0; aborts stay aborts; 204 has no body", async (t) => {
  const down = createApi("t", async () => {
    throw new TypeError("fetch failed");
  });
  await t.rejects(down.get("/v1/cluster"), {
    status: 0,
    code: "NETWORK",
    message: UNREACHABLE,
  });
  const aborted = createApi("t", async () => {
    throw new DOMException("aborted", "AbortError");
  });
  await t.rejects(aborted.get("/v1/cluster"), { name: "AbortError" });
  t.equal(
    await createApi("t", recorder(() => new Response(null, { status: 204 })).fetch).send("DELETE", "/x"),
    undefined,
  );
});
