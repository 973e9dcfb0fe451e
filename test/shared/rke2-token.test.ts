import {
  caHash,
  formatRke2Token,
  generateRke2Password,
  parseRke2Token,
  tokenMatchesCa,
} from "@muster/shared";
import t from "tap";

const ca = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

t.test("formats and parses a full token that pins the CA", async (t) => {
  const pw = generateRke2Password();
  t.match(pw, /^[0-9a-f]{32}$/);
  const token = formatRke2Token(ca, pw);
  t.match(token, /^K10[0-9a-f]{64}::server:[0-9a-f]{32}$/);
  const parsed = parseRke2Token(token);
  t.same(parsed, { caHash: caHash(ca), user: "server", password: pw });
  t.ok(tokenMatchesCa(parsed, ca));
  t.notOk(tokenMatchesCa(parsed, `${ca}x`), "a different CA does not match");
});

t.test("agent-token credentials use node:", async (t) => {
  t.equal(parseRke2Token(formatRke2Token(ca, "abc", "node")).user, "node");
});

t.test("a bare password parses but pins nothing", async (t) => {
  const parsed = parseRke2Token("s3cret-pass");
  t.same(parsed, { caHash: null, user: null, password: "s3cret-pass" });
  t.ok(tokenMatchesCa(parsed, ca));
});

t.test("malformed tokens are refused", async (t) => {
  t.throws(() => parseRke2Token("K10abc::server:pw"), /not K10<64 hex>/);
  t.throws(() => parseRke2Token(`K10${"a".repeat(64)}::root:pw`), /not K10/);
  t.throws(() => parseRke2Token("has space"), /bare password/);
  t.throws(() => parseRke2Token(""), /bare password/);
});
