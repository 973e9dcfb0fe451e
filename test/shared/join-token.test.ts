import {
  generateCredential,
  generateJoinToken,
  hashSecret,
  JOIN_TOKEN_PATTERN,
  parseJoinToken,
  secretMatchesHash,
} from "@muster/shared";
import t from "tap";

t.test("join tokens have the kubeadm shape and are unique", async (t) => {
  const seen = new Set<string>();
  for (let i = 0; i < 200; i++) {
    const { id, secret, token } = generateJoinToken();
    t.match(token, JOIN_TOKEN_PATTERN);
    t.equal(token, `${id}.${secret}`);
    seen.add(token);
  }
  t.equal(seen.size, 200);
});

t.test("parse splits id and secret and refuses other shapes", async (t) => {
  t.same(parseJoinToken("abcdef.0123456789abcdef"), { id: "abcdef", secret: "0123456789abcdef" });
  t.equal(parseJoinToken("ABCDEF.0123456789abcdef"), null);
  t.equal(parseJoinToken("abcdef.short"), null);
  t.equal(parseJoinToken("abcdef0123456789abcdef"), null);
});

t.test("secrets are compared against their hash only", async (t) => {
  const h = hashSecret("0123456789abcdef");
  t.notMatch(h, /0123456789abcdef/);
  t.ok(secretMatchesHash("0123456789abcdef", h));
  t.notOk(secretMatchesHash("0123456789abcdeg", h));
  t.notOk(secretMatchesHash("x", "not-hex"), "a corrupt stored hash never matches");
});

t.test("credentials are long random strings", async (t) => {
  const a = generateCredential();
  t.ok(a.length >= 43);
  t.not(a, generateCredential());
});
