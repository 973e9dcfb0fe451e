import { eventTone, mergeEvents } from "@muster/console/model/events";
import type { MusterEvent } from "@muster/shared";
import t from "tap";

const ev = (seq: number): MusterEvent => ({
  seq,
  time: "2030-01-01T00:00:00Z",
  type: "node.phase",
  message: `#${seq}`,
});

t.test("merged newest first, each seq once, capped", async (t) => {
  const shown = mergeEvents([], [ev(1), ev(2), ev(3)], 4);
  t.same(
    shown.map((e) => e.seq),
    [3, 2, 1],
  );
  const more = mergeEvents(shown, [ev(3), ev(4), ev(5)], 4);
  t.same(
    more.map((e) => e.seq),
    [5, 4, 3, 2],
    "duplicate 3 once; oldest dropped at the cap",
  );
  t.equal(mergeEvents(more, []), more, "nothing new: the same list");
});

t.test("tones", async (t) => {
  t.same(
    [
      "node.join.succeeded",
      "node.join.failed",
      "node.checks.failed",
      "cluster.token.refused",
      "node.phase",
    ].map(eventTone),
    ["ok", "bad", "bad", "bad", "muted"],
  );
});
