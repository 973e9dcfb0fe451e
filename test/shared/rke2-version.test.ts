import { compareRke2Versions, parseRke2Version, upgradeRefusal } from "@muster/shared";
import t from "tap";

// The rolling upgrade's version rules (docs/reference.md#upgrades).

t.test("versions parse and order by Kubernetes version, then RKE2 release", async (t) => {
  t.same(parseRke2Version("v1.33.5+rke2r1"), { major: 1, minor: 33, patch: 5, release: 1 });
  t.equal(parseRke2Version("1.33.5"), null);
  t.equal(parseRke2Version("v1.33.5+k3s1"), null);
  t.ok(compareRke2Versions("v1.33.5+rke2r1", "v1.33.5+rke2r2") < 0, "a later RKE2 release is newer");
  t.ok(compareRke2Versions("v1.33.10+rke2r1", "v1.33.9+rke2r3") > 0, "patch compared as a number");
  t.ok(compareRke2Versions("v1.34.0+rke2r1", "v1.33.9+rke2r9") > 0, "minor before patch");
  t.equal(compareRke2Versions("v1.33.5+rke2r1", "v1.33.5+rke2r1"), 0);
});

t.test("an upgrade goes forward by at most one minor version", async (t) => {
  t.equal(upgradeRefusal("v1.33.5+rke2r1", "v1.33.6+rke2r1"), null, "a patch");
  t.equal(upgradeRefusal("v1.33.5+rke2r1", "v1.33.5+rke2r2"), null, "an RKE2 release");
  t.equal(upgradeRefusal("v1.33.5+rke2r1", "v1.34.1+rke2r1"), null, "the next minor");
  const down = upgradeRefusal("v1.33.5+rke2r1", "v1.32.9+rke2r1");
  t.match(down, /v1\.32\.9\+rke2r1 is older than the cluster's v1\.33\.5\+rke2r1: a downgrade/);
  t.match(upgradeRefusal("v1.33.5+rke2r2", "v1.33.5+rke2r1"), /downgrade/, "an older RKE2 release");
  const skip = upgradeRefusal("v1.33.5+rke2r1", "v1.35.0+rke2r1");
  t.match(skip, /v1\.33\.5\+rke2r1 -> v1\.35\.0\+rke2r1 skips 1 minor/, "names both versions");
  t.match(skip, /to v1\.34\.x first/);
  t.match(upgradeRefusal("v1.33.5+rke2r1", "v1.33.5+rke2r1"), /already runs/);
  t.match(upgradeRefusal("v1.33.5+rke2r1", "v2.0.0+rke2r1"), /major/);
  t.match(upgradeRefusal("v1.33.5+rke2r1", "latest"), /not an RKE2 version/);
});
