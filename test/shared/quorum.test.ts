import { faultTolerance, quorum, quorumWarning } from "@muster/shared";
import t from "tap";

t.test("quorum and fault tolerance follow floor(N/2)+1", async (t) => {
  const table: [number, number, number][] = [
    [0, 0, 0],
    [1, 1, 0],
    [2, 2, 0],
    [3, 2, 1],
    [4, 3, 1],
    [5, 3, 2],
    [7, 4, 3],
  ];
  for (const [n, q, f] of table) {
    t.equal(quorum(n), q, `quorum(${n})`);
    t.equal(faultTolerance(n), f, `faultTolerance(${n})`);
  }
});

t.test("even and single-server counts are warned about", async (t) => {
  t.match(quorumWarning(1), /no fault tolerance/);
  t.match(quorumWarning(4), /use an odd number/);
  t.equal(quorumWarning(3), null);
  t.equal(quorumWarning(5), null);
});
