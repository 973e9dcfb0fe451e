import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createVault, loadVaultKey, seal, unseal } from "@muster/coordinator/domain/secrets/vault";
import { openStore } from "@muster/coordinator/store/store";
import t from "tap";
import { answerChecks, CLUSTER_TOKEN, finish, join as joinNode, makeWorld } from "../../helpers/domain.ts";

// The cluster token at rest: encrypted, its key in a separate 0600 file, readable after a restart.

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => join(d.parentPath, d.name));
}

t.test("a captured token is encrypted at rest, in 0600 files, and survives a restart", async (t) => {
  const w = makeWorld(t);
  joinNode(w, "s1", "server");
  answerChecks(w, "s1");
  w.coord.tick();
  finish(w, "s1");
  t.equal(w.coord.getSpec().rke2.tokenSet, true);
  await w.coord.close();

  const password = CLUSTER_TOKEN.split(":").at(-1)!;
  for (const file of filesUnder(w.stateDir)) {
    const raw = readFileSync(file).toString("latin1");
    t.notOk(raw.includes(password), `the token is not in ${file} in clear`);
    t.equal(statSync(file).mode & 0o777, 0o600, `${file} is 0600`);
  }
  t.equal(statSync(w.stateDir).mode & 0o777, 0o700, "state dir is 0700");
  t.equal(statSync(join(w.stateDir, "vault.key")).size, 32);

  const again = w.reopen();
  t.equal(again.coord.getSpec().rke2.tokenSet, true, "the token is known after a restart");
  joinNode(again, "s2", "server");
  answerChecks(again, "s2");
  await again.coord.settle();
  t.equal(again.links.get("s2")?.last("plan.apply")?.plan.config["token"], CLUSTER_TOKEN);
});

t.test("seal/unseal round-trips; a wrong key or a tampered blob is refused", async (t) => {
  const dir = t.testdir();
  const key = loadVaultKey(dir);
  t.same(loadVaultKey(dir), key, "the key is created once and then reused");
  const blob = seal(key, "secret-value");
  t.not(seal(key, "secret-value"), blob, "a fresh IV every time");
  t.equal(unseal(key, blob), "secret-value");
  const tampered = Buffer.from(blob, "base64");
  tampered[tampered.length - 1]! ^= 1;
  t.throws(() => unseal(key, tampered.toString("base64")));

  const store = openStore(dir, Date.now);
  t.teardown(() => store.close());
  const vault = createVault(dir, store.meta);
  store.tx(() => vault.store("tok"));
  writeFileSync(join(dir, "vault.key"), Buffer.alloc(32, 7));
  t.throws(() => createVault(dir, store.meta), /cannot decrypt the stored cluster token/);
});

t.test("a token stored inside a rolled-back transaction is not kept", async (t) => {
  const dir = t.testdir();
  const store = openStore(dir, Date.now);
  t.teardown(() => store.close());
  const vault = createVault(dir, store.meta);
  t.throws(() =>
    store.tx(() => {
      vault.store("tok");
      throw new Error("later step failed");
    }),
  );
  t.equal(vault.token(), null);
});
