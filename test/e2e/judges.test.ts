// The judges the scenarios use to call server joins serial, shown to catch what they must catch.
// Pure functions on synthetic histories: no world, no root.

import {
  joinWindows,
  maxConcurrentLearners,
  overlappingJoins,
  parseSamples,
} from "@muster/lab/cluster/membership";
import t from "tap";
import { concurrentServerJoins, overlapsOf, type ServerJoinEvent } from "./scenario.ts";

const ev = (seq: number, type: ServerJoinEvent["type"], node: string): ServerJoinEvent => ({
  seq,
  type,
  node,
});

t.test("concurrentServerJoins: by event order", async (t) => {
  t.same(
    concurrentServerJoins([
      ev(1, "node.join.started", "s1"),
      ev(2, "node.join.succeeded", "s1"),
      ev(3, "node.join.started", "s2"),
      ev(4, "node.join.failed", "s2"),
      ev(5, "node.join.started", "s2"),
      ev(6, "node.join.succeeded", "s2"),
    ]),
    [],
    "serial, a failed join ends its window",
  );
  t.same(
    concurrentServerJoins([
      ev(1, "node.join.started", "s1"),
      ev(2, "node.join.started", "s2"),
      ev(3, "node.join.succeeded", "s1"),
      ev(4, "node.join.succeeded", "s2"),
    ]),
    ["s2 started (seq 2) while s1 was joining"],
    "a second start before the first ended is caught",
  );
  t.same(
    concurrentServerJoins([ev(1, "node.join.started", "s1"), ev(2, "node.join.started", "s1")]),
    ["s1 started (seq 2) while s1 was joining"],
    "a second release of the same server is caught too",
  );
});

t.test("overlapsOf: by clock, an open join lasts forever", async (t) => {
  t.same(
    overlapsOf([
      { node: "a", start: 0, end: 10 },
      { node: "b", start: 10, end: 20 },
    ]),
    [],
  );
  t.same(
    overlapsOf([
      { node: "a", start: 0, end: 10 },
      { node: "b", start: 9, end: 20 },
    ]),
    ["a / b"],
  );
  t.same(
    overlapsOf([
      { node: "a", start: 0, end: null },
      { node: "b", start: 50, end: 60 },
    ]),
    ["a / b"],
  );
});

t.test("etcd history: learners counted, learner windows compared", async (t) => {
  const m = (id: string, isLearner: boolean) => ({ id, name: `n${id}`, isLearner });
  const text = [
    JSON.stringify({ t: 0, members: [m("1", false)] }),
    JSON.stringify({ t: 100, members: [m("1", false), m("2", true)] }),
    JSON.stringify({ t: 200, members: [m("1", false), m("2", true), m("3", true)] }),
    JSON.stringify({ t: 300, members: [m("1", false), m("2", false), m("3", true)] }),
    JSON.stringify({ t: 400, members: [m("1", false), m("2", false), m("3", false)] }),
    "not a sample",
  ].join("\n");
  const samples = parseSamples(text);
  t.equal(samples.length, 5);
  t.equal(maxConcurrentLearners(samples), 2, "two learners at t=200");
  const windows = joinWindows(samples);
  t.same(
    windows.map((w) => [w.name, w.learnerAt, w.voterAt]),
    [
      ["n1", null, 0],
      ["n2", 100, 300],
      ["n3", 200, 400],
    ],
  );
  t.same(overlappingJoins(windows, 1000), [["n2", "n3"]], "overlapping learner windows caught");
  t.same(overlappingJoins(joinWindows(samples.slice(0, 2)), 1000), [], "one learner: no overlap");
});
