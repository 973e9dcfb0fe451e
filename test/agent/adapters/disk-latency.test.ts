import { readdirSync } from "node:fs";
import { createDiskLatency } from "@muster/agent/adapters/disk-latency";
import { createFiles } from "@muster/agent/adapters/files";
import t from "tap";

t.test("real appends + fdatasync in a temp file under the directory, removed afterwards", async (t) => {
  const root = t.testdir({ data: {} });
  const disk = createDiskLatency(createFiles(root));
  const r = await disk.fdatasync("/data", { writes: 20, bytes: 2300, budgetMs: 10_000 });
  t.equal(r.latenciesMs.length, 20, "one sample per write");
  t.ok(r.latenciesMs.every((ms) => ms >= 0 && Number.isFinite(ms)));
  t.equal(r.dir, `${root}/data`);
  t.same(readdirSync(`${root}/data`), [], "the temp file is gone");
});

t.test("the time budget ends a slow sample early", async (t) => {
  const disk = createDiskLatency(createFiles(t.testdir({ data: {} })));
  const r = await disk.fdatasync("/data", { writes: 1_000_000, bytes: 2300, budgetMs: 50 });
  t.ok(r.latenciesMs.length >= 1 && r.latenciesMs.length < 1_000_000);
});

t.test("an unwritable directory rejects (the check turns that into a warning)", async (t) => {
  const disk = createDiskLatency(createFiles(t.testdir()));
  await t.rejects(disk.fdatasync("/missing", { writes: 1, bytes: 10, budgetMs: 100 }), { code: "ENOENT" });
});
