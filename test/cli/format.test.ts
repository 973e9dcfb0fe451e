// CLI tables fit the terminal: given its width, the widest columns narrow and their cells wrap onto
// continuation lines; piped (no width) the output is exactly the plain aligned table.
import { table, terminalWidth, wrapCell } from "@muster/cli/format";
import t from "tap";

const HEADER = ["NAME", "ROLE", "STATE", "ADDRESS", "JOINED", "MESSAGE"];
const ROWS = [
  ["server-1", "server (init)", "joined", "10.250.1.10", "2026-12-02 17:00", "-"],
  [
    "agent-1",
    "agent",
    "check-failed",
    "10.250.1.13",
    "-",
    "check-failed: disk; fix them and run `muster retry agent-1`",
  ],
];
const PLAIN = [
  "NAME      ROLE           STATE         ADDRESS      JOINED            MESSAGE",
  "server-1  server (init)  joined        10.250.1.10  2026-12-02 17:00  -",
  "agent-1   agent          check-failed  10.250.1.13  -                 check-failed: disk; fix them and run `muster retry agent-1`",
].join("\n");

t.test("piped: no width, no change", async (t) => {
  t.equal(terminalWidth({ isTTY: false, columns: 40 }), undefined, "a pipe has no width");
  t.equal(terminalWidth({}), undefined);
  t.equal(terminalWidth({ isTTY: true, columns: 72 }), 72, "a terminal has its columns");
  t.equal(table(HEADER, ROWS, undefined), PLAIN);
  t.equal(table(HEADER, ROWS, 500), PLAIN, "a wide terminal changes nothing");
});

t.test("a narrow terminal: every line fits and nothing is lost", async (t) => {
  for (const width of [100, 80, 60]) {
    const out = table(HEADER, ROWS, width);
    const lines = out.split("\n");
    t.ok(
      lines.every((l) => l.length <= width),
      `${width} columns: longest line ${Math.max(...lines.map((l) => l.length))}`,
    );
    t.match(lines[0], /^NAME +ROLE +STATE +ADDRESS +JOINED +MESSAGE$/, `${width}: the header stays whole`);
    t.ok(lines.length > 3, `${width}: the message wraps onto continuation lines`);
    // Continuation lines leave the first column empty, so a row still starts with its name.
    t.same(
      lines.filter((l) => !l.startsWith(" ")).map((l) => l.split(" ")[0]),
      ["NAME", "server-1", "agent-1"],
      `${width}: one line per row starts with the node name`,
    );
    // The wrapped message, read back: the same words in the same order.
    const start = lines[0]!.indexOf("MESSAGE");
    const message = lines
      .slice(lines.findIndex((l) => l.startsWith("agent-1")))
      .map((l) => l.slice(start).trim())
      .join(" ");
    t.equal(message.replace(/ /g, ""), ROWS[1]![5]!.replace(/ /g, ""), `${width}: the message is all there`);
  }
  const at80 = table(HEADER, ROWS, 80).split("\n");
  t.match(at80[1], /^server-1 {2}server \(init\) {2}joined/, "columns that fit are not narrowed");
});

t.test("too narrow to fit: columns stop at their header's width", async (t) => {
  const out = table(HEADER, ROWS, 10).split("\n");
  t.equal(out[0], "NAME  ROLE  STATE  ADDRESS  JOINED  MESSAGE", "headers are never cut");
});

t.test("wrapCell", async (t) => {
  t.same(wrapCell("short", 10), ["short"]);
  t.same(wrapCell("one two three four", 9), ["one two", "three", "four"]);
  t.same(wrapCell("abcdefghij", 4), ["abcd", "efgh", "ij"], "a long word breaks mid-word");
  t.ok(
    wrapCell("a check-failed: disk; fix them", 7).every((l) => l.length <= 7),
    "no line longer than the width",
  );
});
