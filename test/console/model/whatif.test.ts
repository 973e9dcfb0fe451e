import { whatIfVerdict } from "@muster/console/model/whatif";
import t from "tap";

t.test("what losing a server means, in words", async (t) => {
  t.equal(
    whatIfVerdict({ quorumKept: false, toleranceLeft: 0 }),
    "quorum lost: etcd would stop accepting writes",
  );
  t.equal(
    whatIfVerdict({ quorumKept: true, toleranceLeft: 0 }),
    "quorum kept; no further server may be lost",
  );
  t.equal(whatIfVerdict({ quorumKept: true, toleranceLeft: 1 }), "quorum kept; 1 more server may be lost");
  t.equal(whatIfVerdict({ quorumKept: true, toleranceLeft: 2 }), "quorum kept; 2 more servers may be lost");
});
