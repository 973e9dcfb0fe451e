import { readdirSync, readFileSync } from "node:fs";
import { join as joinPath } from "node:path";
import t from "tap";
import { makeWorld, nodeFacts } from "../../helpers/domain.ts";

// Join tokens: role-scoped, expiring, revocable, stored hashed; errors say which, never the secret.

const enrolFrame = (joinToken: string, n: number, name = `node-${n}`) => ({
  type: "enrol" as const,
  joinToken,
  facts: nodeFacts(name, n),
  agentVersion: "0.1.0",
});

t.test("a token enrols nodes of its role, counts uses, and lists without its secret", async (t) => {
  const w = makeWorld(t);
  const server = w.coord.createJoinToken({ role: "server" });
  t.match(server.token, /^[a-z0-9]{6}\.[a-z0-9]{16}$/);
  t.equal(server.token.split(".")[0], server.id);
  t.equal(server.expiresAt, new Date(w.clock.now + 24 * 3600 * 1000).toISOString(), "default TTL is 24 h");
  const a = w.coord.enrol(enrolFrame(server.token, 1), "10.0.0.1");
  const b = w.coord.enrol(enrolFrame(server.token, 2), "10.0.0.2");
  t.same(
    [w.coord.getNode(a.node).role, w.coord.getNode(b.node).role],
    ["server", "server"],
    "the role comes from the token",
  );
  const [info] = w.coord.listJoinTokens();
  t.same(info, {
    id: server.id,
    role: "server",
    createdAt: new Date(w.clock.now).toISOString(),
    expiresAt: server.expiresAt,
    revoked: false,
    expired: false,
    uses: 2,
    lastUsedAt: new Date(w.clock.now).toISOString(),
  });
  t.notOk(JSON.stringify(w.coord.listJoinTokens()).includes(server.token.split(".")[1]!));
  t.same(w.coord.verifyJoinToken(server.token), {
    id: server.id,
    role: "server",
    expiresAt: server.expiresAt,
  });
  t.equal(w.coord.listJoinTokens()[0]?.uses, 2, "verifying does not use the token up");
});

t.test("expired, revoked, unknown and wrong-secret tokens are refused with UNAUTHORIZED", async (t) => {
  const w = makeWorld(t);
  const short = w.coord.createJoinToken({ role: "agent", ttlSeconds: 60 });
  const revoked = w.coord.createJoinToken({ role: "agent" });
  w.coord.revokeJoinToken(revoked.id);
  w.coord.revokeJoinToken(revoked.id); // twice is fine
  t.throws(() => w.coord.revokeJoinToken("zzzzzz"), { code: "NOT_FOUND" });

  w.clock.now += 59_000;
  t.ok(w.coord.enrol(enrolFrame(short.token, 1), "10.0.0.1"), "valid until it expires");
  w.clock.now += 1_000;
  t.throws(() => w.coord.enrol(enrolFrame(short.token, 2), "10.0.0.2"), {
    code: "UNAUTHORIZED",
    message: `join token ${short.id} expired at ${short.expiresAt}; create a new one`,
  });
  t.equal(w.coord.listJoinTokens().find((i) => i.id === short.id)?.expired, true);
  t.throws(() => w.coord.enrol(enrolFrame(revoked.token, 3), "10.0.0.3"), {
    code: "UNAUTHORIZED",
    message: `join token ${revoked.id} was revoked; create a new one`,
  });
  const secret = revoked.token.split(".")[1]!;
  const wrongSecret = `${revoked.id}.${secret.split("").reverse().join("")}`;
  const unknown = `abcdef.${secret}`;
  for (const bad of [wrongSecret, unknown]) {
    const err = (() => {
      try {
        w.coord.enrol(enrolFrame(bad, 4), "10.0.0.4");
      } catch (e) {
        return e as Error & { code: string };
      }
    })();
    t.equal(err?.code, "UNAUTHORIZED");
    t.equal(err?.message, "join token is not valid", "neither which part was wrong, nor the secret");
  }
  t.same(
    w.coord.listNodes().map((n) => n.name),
    ["node-1"],
    "no refused token enrolled anything",
  );
  t.ok(w.coord.listEvents(0, 100).events.some((e) => e.type === "join-token.revoked"));
});

t.test("secrets and credentials are stored only as hashes", async (t) => {
  const w = makeWorld(t);
  const issued = w.coord.createJoinToken({ role: "server" });
  const { credential } = w.coord.enrol(enrolFrame(issued.token, 1), "10.0.0.1");
  await w.coord.close();
  const secret = issued.token.split(".")[1]!;
  for (const file of readdirSync(w.stateDir)) {
    const raw = readFileSync(joinPath(w.stateDir, file)).toString("latin1");
    t.notOk(raw.includes(secret), `join secret not in ${file}`);
    t.notOk(raw.includes(credential), `credential not in ${file}`);
  }
});
