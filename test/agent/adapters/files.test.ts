import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { createFiles } from "@muster/agent/adapters/files";
import t from "tap";

t.test("paths are rooted: /etc/x lands under the root", async (t) => {
  const root = t.testdir();
  const files = createFiles(root);
  await files.mkdir("/etc/muster", 0o700);
  await files.writeAtomic("/etc/muster/a.yaml", "x: 1\n", 0o600);
  t.equal(readFileSync(path.join(root, "etc/muster/a.yaml"), "utf8"), "x: 1\n");
  t.equal(files.resolve("/etc/../etc/muster"), path.join(root, "etc/muster"));
  t.throws(() => files.resolve("relative/path"));
});

t.test("writeAtomic: exact mode despite umask, replaces, leaves no temp file", async (t) => {
  const root = t.testdir({ "old.txt": "old" });
  const files = createFiles(root);
  const prev = process.umask(0o077);
  t.teardown(() => {
    process.umask(prev);
  });
  await files.writeAtomic("/new.txt", "secret", 0o600);
  t.equal(statSync(path.join(root, "new.txt")).mode & 0o777, 0o600);
  process.umask(0o022);
  writeFileSync(path.join(root, "old.txt"), "old", { mode: 0o644 });
  await files.writeAtomic("/old.txt", "new", 0o600);
  t.equal(readFileSync(path.join(root, "old.txt"), "utf8"), "new");
  t.equal(statSync(path.join(root, "old.txt")).mode & 0o777, 0o600, "replacing a 0644 file yields 0600");
  t.same(readdirSync(root).sort(), ["new.txt", "old.txt"]);
});

t.test("missing things read as null/false/[]", async (t) => {
  const files = createFiles(t.testdir());
  t.equal(await files.readTextIfExists("/nope"), null);
  t.equal(await files.stat("/nope"), null);
  t.equal(await files.exists("/nope"), false);
  t.same(await files.readdir("/nope"), []);
  t.equal(await files.readlink("/nope"), null);
  await t.rejects(files.readText("/nope"));
});
