// The CLI's words for system codes and bare statuses: each says what went wrong and what to do, and
// none shows only the code. A table over the mapping, then the CLI itself on a refused connection.
import { runOperator } from "@muster/cli/main";
import { answerProblem, fileProblem, networkProblem } from "@muster/cli/system-errors";
import t from "tap";

const errno = (code: string, message = `${code} something`) => Object.assign(new Error(message), { code });
const RAW = /\bE[A-Z]{3,}\b|\bHTTP\b|status code/;

t.test("file problems in words", async (t) => {
  const table: Array<[string, RegExp]> = [
    ["ENOENT", /^it does not exist$/],
    ["EACCES", /^permission denied \(run as a user who may use it, e\.g\. with sudo\)$/],
    ["EPERM", /^permission denied/],
    ["EISDIR", /^it is a directory, not a file$/],
    ["ENOTDIR", /^a part of its path is not a directory$/],
    ["EROFS", /read-only file system/],
    ["ENOSPC", /the disk is full/],
  ];
  for (const [code, words] of table) {
    const m = fileProblem(errno(code));
    t.match(m, words, code);
    t.notMatch(m, RAW, `${code}: no raw code`);
  }
  t.equal(fileProblem(errno("EMFILE", "too many open files")), "too many open files", "others: the message");
});

t.test("network problems in words, each with what to check", async (t) => {
  const origin = "https://10.0.0.5:9443";
  const table: Array<[string, RegExp]> = [
    ["ECONNREFUSED", /nothing listens there; check that muster-coordinator runs/],
    ["ENOTFOUND", /host name does not resolve; check the name in --server/],
    ["EAI_AGAIN", /host name does not resolve/],
    ["EHOSTUNREACH", /no route to that address/],
    ["ENETUNREACH", /no route to that address/],
    ["ETIMEDOUT", /no answer; check the address and that a firewall lets the port through/],
    ["ECONNRESET", /the connection was cut; check that --server names the coordinator's HTTPS port/],
  ];
  for (const [code, words] of table) {
    const m = networkProblem(origin, errno(code));
    t.match(m, /^cannot reach the coordinator at https:\/\/10\.0\.0\.5:9443: /, code);
    t.match(m, words, code);
    t.notMatch(m, RAW, `${code}: no raw code`);
  }
  t.match(
    networkProblem(origin, new Error("no answer within 15 s")),
    /no answer within 15 s; check the address and that a firewall/,
    "the CLI's own timeout gets the same advice",
  );
});

t.test("answers without an error body, by what they mean", async (t) => {
  const table: Array<[number, RegExp]> = [
    [401, /did not accept the admin token/],
    [403, /does not allow this/],
    [404, /older muster than this CLI \(upgrade it\)/],
    [413, /too large/],
    [429, /wait a moment and try again/],
    [500, /failed while answering; see its log \(journalctl -u muster-coordinator\)/],
    [502, /failed while answering/],
    [418, /refused the request \(code 418\); see its log/],
  ];
  for (const [status, words] of table) {
    const m = answerProblem(status);
    t.match(m, words, String(status));
    t.notMatch(m, RAW, `${status}: no HTTP term`);
  }
});

t.test("the CLI on a port nothing listens on: what to do, not ECONNREFUSED", async (t) => {
  const err: string[] = [];
  const code = await runOperator(
    ["status", "--server", "https://127.0.0.1:1", "--pin", `sha256//${"A".repeat(43)}=`],
    {
      env: { MUSTER_TOKEN: "x".repeat(32) },
      out: () => {},
      err: (s) => err.push(s),
      defaults: { server: "https://127.0.0.1:1", caFile: "/nonexistent/ca.crt", tokenFile: "/nonexistent/t" },
    },
  );
  t.equal(code, 1);
  t.match(
    err.join("\n"),
    /^muster: cannot reach the coordinator at https:\/\/127\.0\.0\.1:1: nothing listens there; check that muster-coordinator runs/,
  );
  t.notMatch(err.join("\n"), /ECONNREFUSED/);
});
