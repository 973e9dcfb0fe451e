import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { runOperator } from "@muster/cli/main";
import t from "tap";

// muster completion bash|zsh (docs/reference.md#shell-completion): generated from the command table;
// works without a coordinator.

async function muster(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runOperator(argv, {
    env: {},
    out: (s) => out.push(s),
    err: (s) => err.push(s),
    defaults: { server: "https://127.0.0.1:1", caFile: "/nonexistent/ca.crt", tokenFile: "/nonexistent/t" },
  });
  return { code, stdout: out.join("\n"), stderr: err.join("\n") };
}

/** What bash completes for `line` (the last word being completed) with the generated script. */
function bashComplete(script: string, words: string[]): string[] {
  const dir = t.testdir({ "admin.yaml": "", "cluster.yaml": "" });
  const file = path.join(dir, "muster.bash");
  writeFileSync(file, script);
  const quoted = words.map((w) => `'${w}'`).join(" ");
  const r = spawnSync(
    "bash",
    [
      "-c",
      `source ${file}; COMP_WORDS=(${quoted}); COMP_CWORD=${words.length - 1}; _muster; printf '%s\\n' "\${COMPREPLY[@]}"`,
    ],
    { cwd: dir, encoding: "utf8" },
  );
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout.split("\n").filter(Boolean).sort();
}

t.test("bash: commands, their flags, and files after a FILE flag", async (t) => {
  const r = await muster(["completion", "bash"]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /complete -F _muster muster/);
  t.same(bashComplete(r.stdout, ["muster", "kube"]), ["kubeconfig"]);
  t.ok(bashComplete(r.stdout, ["muster", ""]).includes("completion"), "every command is offered");
  t.same(bashComplete(r.stdout, ["muster", "remove", "--f"]), ["--force"]);
  t.same(bashComplete(r.stdout, ["muster", "nodes", "appr"]), ["approve"]);
  t.same(bashComplete(r.stdout, ["muster", "upgrade", "st"]), ["status"], "upgrade's sub-word");
  t.same(bashComplete(r.stdout, ["muster", "upgrade", "--dr"]), ["--drain"], "upgrade keeps its flags");
  t.same(bashComplete(r.stdout, ["muster", "status", "--token-file", "adm"]), ["admin.yaml"]);
  t.same(bashComplete(r.stdout, ["muster", "--ser"]), ["--server"], "global flags before the command");
});

t.test(
  "zsh: a script zsh accepts, naming every command",
  { skip: spawnSync("zsh", ["-c", "true"]).error ? "zsh not installed" : false },
  async (t) => {
    const r = await muster(["completion", "zsh"]);
    t.equal(r.code, 0, r.stderr);
    t.match(r.stdout, /^#compdef muster/);
    t.match(r.stdout, /'kubeconfig:the admin kubeconfig/);
    t.match(r.stdout, /\n {4}upgrade\) _arguments .* '1:subcommand:\(status\)' ;;\n/);
    const dir = t.testdir();
    writeFileSync(path.join(dir, "_muster"), r.stdout);
    const check = spawnSync("zsh", ["-n", path.join(dir, "_muster")], { encoding: "utf8" });
    t.equal(check.status, 0, check.stderr);
  },
);

t.test("a missing or unknown shell is a usage error", async (t) => {
  const none = await muster(["completion"]);
  t.equal(none.code, 2);
  t.match(none.stderr, /completion needs a shell: muster completion bash, or muster completion zsh/);
  const fish = await muster(["completion", "fish"]);
  t.equal(fish.code, 2);
  t.match(fish.stderr, /no completion for fish; use bash or zsh/);
});
