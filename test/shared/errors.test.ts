import {
  ConfigConflictsWithState,
  defineError,
  ErrorCodes,
  errorCatalogue,
  InvalidField,
  isMusterError,
  MusterError,
  NodeNotFound,
  SpecConflict,
} from "@muster/shared";
import t from "tap";

// The error catalogue: every error is a class with a stable code, status and name, and its message
// is built in one place.

t.test("a catalogue error is a MusterError with its code, status, name and message", async (t) => {
  const err = new NodeNotFound("s1");
  t.ok(err instanceof NodeNotFound);
  t.ok(err instanceof MusterError);
  t.ok(err instanceof Error);
  t.ok(isMusterError(err));
  t.equal(err.code, "NOT_FOUND");
  t.equal(err.status, 404);
  t.equal(err.name, "NodeNotFound");
  t.equal(NodeNotFound.name, "NodeNotFound", "the class's own name, not inferred from the bundle");
  t.equal(NodeNotFound.code, "NOT_FOUND");
  t.equal(NodeNotFound.status, 404);
  t.equal(err.message, "node s1 does not exist");
  t.same(err.toBody(), { error: { code: "NOT_FOUND", message: "node s1 does not exist" } });
  t.notOk(new SpecConflict("vip", "x") instanceof NodeNotFound, "classes are distinct");
});

t.test("errors naming fields carry them as details", async (t) => {
  const err = new InvalidField("address", '"x" is not an IPv4 address');
  t.equal(err.message, 'address: "x" is not an IPv4 address');
  t.same(err.details, [{ path: "address", message: '"x" is not an IPv4 address' }]);
  const wrapped = new ConfigConflictsWithState(new SpecConflict("vip", "cannot change"));
  t.equal(wrapped.message, "the config file conflicts with the cluster's stored state: vip: cannot change");
  t.same(wrapped.details, [{ path: "vip", message: "cannot change" }]);
  t.equal(wrapped.code, "CONFLICT");
});

t.test("every entry has a unique name, a known code and the code's status", async (t) => {
  const all = errorCatalogue();
  t.ok(all.length >= 30, `${all.length} entries`);
  t.equal(new Set(all.map((c) => c.name)).size, all.length, "names are unique");
  for (const Cls of all) {
    t.ok(Cls.code in ErrorCodes, `${Cls.name}: ${Cls.code}`);
    t.equal(Cls.status, ErrorCodes[Cls.code].status, `${Cls.name} has its code's status`);
  }
  t.throws(() => defineError("NodeNotFound", "NOT_FOUND", () => "again"), /defined twice/);
});

t.test("a new error is one definition: code, status and message follow", async (t) => {
  const QuorumGuardTest = defineError(
    "QuorumGuardTest",
    "CONFLICT",
    (node: string) => `removing ${node} would lose quorum`,
  );
  const err = new QuorumGuardTest("s2");
  t.same(
    [err.name, err.code, err.status, err.message],
    ["QuorumGuardTest", "CONFLICT", 409, "removing s2 would lose quorum"],
  );
});

t.test(
  "no throw site outside the catalogue words an error itself (new MusterError(code, text))",
  async (t) => {
    const { readdirSync, readFileSync } = await import("node:fs");
    const { join } = await import("node:path");
    const root = join(import.meta.dirname, "../../packages");
    const offenders: string[] = [];
    for (const pkg of readdirSync(root)) {
      if (pkg === "shared") continue;
      const src = join(root, pkg, "src");
      for (const file of readdirSync(src, { recursive: true, encoding: "utf8" })) {
        if (!/\.tsx?$/.test(file)) continue;
        if (/new MusterError\(/.test(readFileSync(join(src, file), "utf8")))
          offenders.push(`${pkg}/src/${file}`);
      }
    }
    t.same(offenders, [], "every error is a class from packages/shared/src/errors.ts");
  },
);
