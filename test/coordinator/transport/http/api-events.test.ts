import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Coordinator } from "@muster/coordinator/domain/coordinator";
import type { MusterApp } from "@muster/coordinator/transport/http/app";
import { EventsPageSchema } from "@muster/shared";
import t from "tap";
import { auth, createJoinToken, makeApp } from "../../helpers/harness.ts";

// The long-poll of GET /v1/events (waitSeconds): at once when there is something to read, parked
// until an event otherwise, an empty page on time-out, and never in the way of a shutdown.

const get = (url: string) => ({ method: "GET" as const, url, headers: auth });

/** Records each waitForEvents call (so a test knows the request is parked) and its signal. */
function watchWaits(service: Coordinator) {
  const calls: AbortSignal[] = [];
  const wrap = (s: Coordinator): Coordinator => ({
    ...s,
    waitForEvents(after, ms, signal) {
      if (signal) calls.push(signal);
      return s.waitForEvents(after, ms, signal);
    },
  });
  return { calls, wrap: wrap(service) };
}

/** The newest seq now (the coordinator records its spec on first start, so it is not 0). */
async function latest(app: MusterApp): Promise<number> {
  return EventsPageSchema.parse((await app.inject(get("/v1/events?limit=1000"))).json()).next;
}

async function until(what: string, cond: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

t.test("answers at once when events newer than after exist", async (t) => {
  const { app } = await makeApp(t);
  const before = await latest(app);
  await createJoinToken(app, "server");
  const started = Date.now();
  const res = await app.inject(get(`/v1/events?after=${before}&waitSeconds=30`));
  t.equal(res.statusCode, 200);
  const page = EventsPageSchema.parse(res.json());
  // The domain's event, then the audit trail's (transport/http/audit.ts).
  t.match(page.events, [
    { seq: before + 1, type: "join-token.created" },
    { seq: before + 2, type: "admin.action" },
  ]);
  t.equal(page.next, before + 2);
  t.ok(Date.now() - started < 5000, "did not wait for the 30 s");
});

t.test("waits for the next event and wakes when it is appended", async (t) => {
  let watch: ReturnType<typeof watchWaits> | undefined;
  const { app } = await makeApp(t, {
    wrap: (s) => {
      watch = watchWaits(s);
      return watch.wrap;
    },
  });
  const before = await latest(app);
  let answered = false;
  const pending = app.inject(get(`/v1/events?after=${before}&waitSeconds=30`)).then((r) => {
    answered = true;
    return r;
  });
  await until("the request to park", () => watch!.calls.length === 1);
  await new Promise((r) => setImmediate(r));
  t.notOk(answered, "nothing newer yet: still waiting");
  const started = Date.now();
  await createJoinToken(app, "agent");
  const res = await pending;
  t.ok(Date.now() - started < 5000, "woke on the event, not on the time-out");
  const page = EventsPageSchema.parse(res.json());
  // Woken by the domain's event; the audit trail's (audit.ts) follows it, in this page or the next.
  t.match(page.events[0], { seq: before + 1, type: "join-token.created" });
  t.equal(page.next, page.events.at(-1)!.seq);
});

t.test("times out with an empty page that keeps next", async (t) => {
  const { app } = await makeApp(t);
  const before = await latest(app);
  const started = Date.now();
  const res = await app.inject(get(`/v1/events?after=${before}&waitSeconds=1`));
  const waited = Date.now() - started;
  t.equal(res.statusCode, 200);
  t.same(res.json(), { events: [], next: before });
  t.ok(waited >= 900 && waited < 5000, `waited about 1 s (${waited} ms)`);
});

t.test("waitSeconds 0 (the default) answers at once even with nothing new", async (t) => {
  const { app } = await makeApp(t);
  const before = await latest(app);
  const started = Date.now();
  const res = await app.inject(get(`/v1/events?after=${before}&waitSeconds=0`));
  t.same(res.json(), { events: [], next: before });
  const res2 = await app.inject(get(`/v1/events?after=${before}`));
  t.same(res2.json(), { events: [], next: before });
  t.ok(Date.now() - started < 1000, "no wait");
});

t.test("a bad waitSeconds is a 400 naming it", async (t) => {
  const { app } = await makeApp(t);
  for (const q of ["waitSeconds=-1", "waitSeconds=61", "waitSeconds=abc", "waitSeconds=1.5"]) {
    const res = await app.inject(get(`/v1/events?${q}`));
    t.equal(res.statusCode, 400, q);
    t.match(res.json(), { error: { code: "VALIDATION_FAILED", details: [{ path: "waitSeconds" }] } }, q);
  }
  const open = await app.inject({ method: "GET", url: "/v1/events?waitSeconds=5" });
  t.equal(open.statusCode, 401, "the long-poll needs the admin token like the rest");
});

/** GET over a real socket, so hang-ups and shutdown behave as with a browser. */
function httpGet(port: number, path: string, signal?: AbortSignal) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = http.get({ host: "127.0.0.1", port, path, headers: auth, signal }, (res) => {
      let body = "";
      res.on("data", (c) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
  });
}

t.test("a parked request ends when the app shuts down, and does not hold the shutdown", async (t) => {
  let watch: ReturnType<typeof watchWaits> | undefined;
  const { app } = await makeApp(t, {
    wrap: (s) => {
      watch = watchWaits(s);
      return watch.wrap;
    },
  });
  await app.listen({ host: "127.0.0.1", port: 0 });
  const { port } = app.server.address() as AddressInfo;
  const before = await latest(app);
  const pending = httpGet(port, `/v1/events?after=${before}&waitSeconds=60`);
  await until("the request to park", () => watch!.calls.length === 1);
  const started = Date.now();
  await app.close();
  const res = await pending;
  t.ok(Date.now() - started < 10_000, `closed in ${Date.now() - started} ms, not after the 60 s wait`);
  t.equal(res.status, 200);
  t.same(JSON.parse(res.body), { events: [], next: before });
});

t.test("a client that hangs up stops its wait", async (t) => {
  let watch: ReturnType<typeof watchWaits> | undefined;
  const { app } = await makeApp(t, {
    wrap: (s) => {
      watch = watchWaits(s);
      return watch.wrap;
    },
  });
  await app.listen({ host: "127.0.0.1", port: 0 });
  const { port } = app.server.address() as AddressInfo;
  const ctl = new AbortController();
  const before = await latest(app);
  const pending = httpGet(port, `/v1/events?after=${before}&waitSeconds=60`, ctl.signal);
  await until("the request to park", () => watch!.calls.length === 1);
  t.notOk(watch!.calls[0]!.aborted);
  ctl.abort();
  await t.rejects(pending);
  await until("the wait to be told", () => watch!.calls[0]!.aborted === true);
  t.pass("the domain wait saw the hang-up");
});

t.test("closing the coordinator ends parked waits", async (t) => {
  const { app, service } = await makeApp(t);
  const parked = service.waitForEvents(await latest(app), 60_000);
  await service.close();
  t.equal(await parked, "closed");
});
