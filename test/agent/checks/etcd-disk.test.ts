import { mkdirSync } from "node:fs";
import path from "node:path";
import { etcdDiskCheck, FSYNC_BYTES, FSYNC_WRITES, percentile } from "@muster/agent/checks/etcd-disk";
import t from "tap";
import { checkContext } from "../helpers/check-context.ts";
import { fakeDisk } from "../helpers/fakes.ts";

t.test("nearest-rank percentiles", async (t) => {
  const hundred = Array.from({ length: 100 }, (_, i) => 100 - i); // 100..1, unsorted
  t.equal(percentile(hundred, 50), 50);
  t.equal(percentile(hundred, 99), 99);
  t.equal(percentile([3, 1, 2], 99), 3);
  t.equal(percentile([7], 50), 7);
});

const fast = Array.from({ length: 100 }, (_, i) => 0.5 + i * 0.02); // p99 2.46 ms
const slowTail = [...Array.from({ length: 98 }, () => 1), 12, 25]; // p99 12 ms

t.test("etcd-disk: p99 below 10 ms passes, at or above warns; the message has p50 and p99", async (t) => {
  const dir = t.testdir();
  const good = fakeDisk(fast);
  const r = await etcdDiskCheck.run(checkContext(dir, { host: { disk: good.disk } }));
  t.equal(r.status, "pass");
  t.match(r.message, /^fdatasync p99 2\.46 ms, p50 1\.48 ms \(100 writes of 2300 bytes under \/\S*\)/);

  const slow = await etcdDiskCheck.run(checkContext(dir, { host: { disk: fakeDisk(slowTail).disk } }));
  t.equal(slow.status, "warn");
  t.match(slow.message, /p99 12\.0 ms, p50 1\.00 ms .*etcd wants p99 below 10 ms/);
  t.match(slow.fix, /faster disk/);

  const edge = await etcdDiskCheck.run(
    checkContext(dir, { host: { disk: fakeDisk(Array.from({ length: 100 }, () => 10)).disk } }),
  );
  t.equal(edge.status, "warn", "exactly 10 ms is not below 10 ms");
});

t.test("etcd-disk: measures on the nearest existing parent of /var/lib/rancher/rke2", async (t) => {
  const root = t.testdir();
  const disk = fakeDisk(fast);
  await etcdDiskCheck.run(checkContext(root, { host: { disk: disk.disk } }));
  t.same(disk.calls, ["/"], "nothing of /var/lib/rancher exists under this root");
  mkdirSync(path.join(root, "var/lib/rancher/rke2"), { recursive: true });
  await etcdDiskCheck.run(checkContext(root, { host: { disk: disk.disk } }));
  t.equal(disk.calls[1], "/var/lib/rancher/rke2");
});

t.test("etcd-disk: too few samples in the budget, or no way to measure, warns", async (t) => {
  const dir = t.testdir();
  const few = await etcdDiskCheck.run(checkContext(dir, { host: { disk: fakeDisk([400, 500, 600]).disk } }));
  t.equal(few.status, "warn");
  t.match(few.message, /only 3 fsync\(s\) of 2300 bytes finished/);
  const err = Object.assign(new Error("read-only file system"), { code: "EROFS" });
  const ro = await etcdDiskCheck.run(checkContext(dir, { host: { disk: fakeDisk(err).disk } }));
  t.equal(ro.status, "warn");
  t.match(ro.message, /could not measure fsync latency under \/: EROFS/);
  t.ok(FSYNC_WRITES >= 100 && FSYNC_BYTES === 2300, "the sample is etcd-like");
});
