import { createHash } from "node:crypto";
import { statSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { canonicalJson, planChecksum } from "@muster/shared";
import t from "tap";
import {
  answerChecks,
  CLUSTER_TOKEN,
  FakeLink,
  formInit,
  join as joinNode,
  makeWorld,
  planOf,
} from "../../helpers/domain.ts";

// The stored plan checksum is no password oracle: it leaves the tokens out and covers their HMAC
// under plan.key (0600, beside vault.key); rows stored under the old unkeyed scheme are re-sealed.

const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");

function rows(stateDir: string): { name: string; plan: string; plan_checksum: string }[] {
  const db = new DatabaseSync(join(stateDir, "muster.db"));
  const out = db
    .prepare("SELECT name, plan, plan_checksum FROM nodes WHERE plan IS NOT NULL ORDER BY id")
    .all() as { name: string; plan: string; plan_checksum: string }[];
  db.close();
  return out;
}

t.test(
  "old unkeyed checksums are re-sealed once; a guessed token cannot be tested against them",
  async (t) => {
    const w = makeWorld(t);
    formInit(w, "s1");
    joinNode(w, "s2", "server");
    answerChecks(w, "s2");
    await w.coord.settle();
    const sent = planOf(w, "s2");
    const agentToken = sent.config["agent-token"] as string;
    t.equal(statSync(join(w.stateDir, "plan.key")).mode & 0o777, 0o600, "plan.key is 0600");
    t.equal(statSync(join(w.stateDir, "plan.key")).size, 32);
    await w.coord.close();

    // Rewrite the rows as the previous version stored them: checksum = SHA-256 over the plan, tokens in.
    const db = new DatabaseSync(join(w.stateDir, "muster.db"));
    const oldChecksums = new Map<string, string>();
    for (const row of rows(w.stateDir)) {
      const { $secrets: marker, secretsDigest: _d, checksum: _c, ...plan } = JSON.parse(row.plan);
      const config = { ...plan.config, "agent-token": agentToken };
      if (marker.token === "cluster") config.token = CLUSTER_TOKEN;
      const legacy = sha256(canonicalJson({ ...plan, config }));
      oldChecksums.set(row.name, legacy);
      const stored = JSON.stringify({ ...plan, $secrets: marker, checksum: legacy });
      db.prepare("UPDATE nodes SET plan = ?, plan_checksum = ? WHERE name = ?").run(stored, legacy, row.name);
    }
    db.exec("DELETE FROM meta WHERE key = 'plan-checksum'");
    db.close();

    const again = w.reopen();
    const after = rows(w.stateDir);
    t.equal(after.length, 2);
    for (const row of after) {
      const stored = JSON.parse(row.plan);
      t.match(stored.secretsDigest, /^[0-9a-f]{64}$/, `${row.name}: a keyed secrets digest`);
      t.equal(row.plan_checksum, stored.checksum, `${row.name}: column and plan agree`);
      t.not(row.plan_checksum, oldChecksums.get(row.name), `${row.name}: the old checksum is gone`);
    }
    // The oracle: with only the database, hash each row with the right token and see if it matches.
    for (const row of after) {
      const { $secrets: _m, checksum: _c, ...plan } = JSON.parse(row.plan);
      const guess = sha256(canonicalJson({ ...plan, config: { ...plan.config, token: CLUSTER_TOKEN } }));
      t.not(guess, row.plan_checksum, `${row.name}: the right token does not reproduce the checksum`);
    }

    const link = new FakeLink();
    again.coord.attach("s2", link, null);
    const resent = link.last("plan.apply")?.plan;
    t.equal(
      resent?.checksum,
      after[1]?.plan_checksum,
      "the joining node gets its plan under the new checksum",
    );
    t.equal(planChecksum(resent!), resent?.checksum, "which the agent verifies without the key");
    t.same(resent?.config, sent.config, "same content, tokens included");
    await again.coord.close();

    const third = w.reopen();
    t.same(rows(w.stateDir), after, "it runs once: a later start changes nothing");
    await third.coord.close();
  },
);
