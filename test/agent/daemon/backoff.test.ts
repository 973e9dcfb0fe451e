import { backoffDelay, DEFAULT_BACKOFF, refusedDelay } from "@muster/agent/daemon/backoff";
import t from "tap";

t.test("exponential, jittered between half and the full ceiling, capped at 30 s", async (t) => {
  t.equal(
    backoffDelay(0, DEFAULT_BACKOFF, () => 0),
    250,
  );
  t.equal(
    backoffDelay(0, DEFAULT_BACKOFF, () => 1),
    500,
  );
  t.equal(
    backoffDelay(3, DEFAULT_BACKOFF, () => 1),
    4000,
  );
  t.equal(
    backoffDelay(20, DEFAULT_BACKOFF, () => 1),
    30_000,
  );
  t.equal(
    backoffDelay(1000, DEFAULT_BACKOFF, () => 0),
    15_000,
  );
  const draws = new Set(Array.from({ length: 50 }, () => backoffDelay(5, DEFAULT_BACKOFF)));
  t.ok(draws.size > 10, "jittered");
});

t.test("an auth refusal backs off for minutes", async (t) => {
  t.ok(refusedDelay(DEFAULT_BACKOFF, () => 0) >= 4 * 60_000);
  t.ok(refusedDelay(DEFAULT_BACKOFF, () => 1) <= 6 * 60_000);
});
