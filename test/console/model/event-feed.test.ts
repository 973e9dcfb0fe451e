import { ApiError } from "@muster/console/model/api";
import { followEvents } from "@muster/console/model/event-feed";
import type { EventsPage, MusterEvent } from "@muster/shared";
import t from "tap";

// The long-poll loop against a scripted API: each get() takes the next scripted answer.
const ev = (seq: number): MusterEvent => ({
  seq,
  time: "2030-01-01T00:00:00Z",
  type: "node.phase",
  message: `#${seq}`,
});
type Answer = EventsPage | ApiError | "hang";

function scripted(answers: Answer[]) {
  const paths: string[] = [];
  const api = {
    async get<T>(path: string, signal?: AbortSignal): Promise<T> {
      paths.push(path);
      const next = answers.shift() ?? "hang";
      if (next === "hang")
        return new Promise<T>((_resolve, reject) =>
          signal?.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError"))),
        );
      if (next instanceof ApiError) throw next;
      return next as T;
    },
  };
  return { api, paths };
}

async function until(cond: () => boolean, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 5));
  }
}

t.test("reads the log page by page with the long-poll, advancing after", async (t) => {
  const { api, paths } = scripted([
    { events: [ev(1), ev(2)], next: 2 },
    { events: [], next: 2 }, // a long-poll that timed out
    { events: [ev(3)], next: 3 },
  ]);
  const pages: number[][] = [];
  const ctl = new AbortController();
  const done = followEvents({
    api,
    after: 0,
    signal: ctl.signal,
    waitSeconds: 25,
    onPage: (p) => pages.push(p.events.map((e) => e.seq)),
    onTrouble: () => t.fail("no trouble"),
    onUnauthorized: () => t.fail("not unauthorized"),
  });
  await until(() => paths.length === 4);
  t.same(paths, [
    "/v1/events?after=0&limit=1000&waitSeconds=25",
    "/v1/events?after=2&limit=1000&waitSeconds=25",
    "/v1/events?after=2&limit=1000&waitSeconds=25",
    "/v1/events?after=3&limit=1000&waitSeconds=25",
  ]);
  t.same(pages, [[1, 2], [3]], "empty pages are not reported");
  ctl.abort();
  await done;
  t.pass("ends when aborted, mid-request");
});

t.test("trouble is reported, retried after a pause, and cleared once it works again", async (t) => {
  const { api, paths } = scripted([
    new ApiError(0, "NETWORK", "Cannot reach the coordinator"),
    { events: [ev(1)], next: 1 },
  ]);
  const trouble: Array<string | null> = [];
  const ctl = new AbortController();
  const done = followEvents({
    api,
    after: 0,
    signal: ctl.signal,
    retryMs: 20,
    onPage: () => {},
    onTrouble: (e) => trouble.push(e ? e.message : null),
    onUnauthorized: () => t.fail("not unauthorized"),
  });
  await until(() => paths.length === 3);
  t.same(trouble, ["Cannot reach the coordinator", null]);
  ctl.abort();
  await done;
});

t.test("a refused token stops following", async (t) => {
  const { api, paths } = scripted([new ApiError(401, "UNAUTHORIZED", "Invalid admin token")]);
  let refused: ApiError | null = null;
  await followEvents({
    api,
    after: 7,
    signal: new AbortController().signal,
    onPage: () => {},
    onTrouble: () => t.fail("not trouble"),
    onUnauthorized: (e) => {
      refused = e;
    },
  });
  t.equal(paths.length, 1);
  t.match(refused, { status: 401, message: "Invalid admin token" });
});
