import { GLOBAL_OPTIONS, type OptionSpecs, UsageError, withGlobals } from "./args.ts";

// `muster completion bash|zsh` (docs/reference.md#shell-completion): a completion script generated
// from the command table itself, so a new command or flag completes without editing a script. It
// completes the command, then that command's and the global flags; flags that take a FILE complete
// file names. Needs no coordinator.

export interface CompletionTable {
  [command: string]: { summary: string; options: OptionSpecs };
}

/** Second words of commands that have them (`muster nodes approve NODE`). */
const SUBCOMMANDS: Record<string, string[]> = {
  nodes: ["approve"],
  "join-tokens": ["revoke"],
  "agent-token": ["migrate"],
  upgrade: ["status"],
};

function flagsOf(options: OptionSpecs): string[] {
  const out: string[] = [];
  for (const [name, spec] of Object.entries(options)) {
    out.push(`--${name}`);
    if (spec.short) out.push(`-${spec.short}`);
  }
  return out;
}

function fileFlags(options: OptionSpecs): string[] {
  return Object.entries(options)
    .filter(([, s]) => s.type === "string" && /FILE/.test(s.value ?? ""))
    .map(([n]) => `--${n}`);
}

const sq = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;

export function bashCompletion(table: CompletionTable): string {
  const commands = Object.keys(table).sort();
  const globalFiles = fileFlags(GLOBAL_OPTIONS);
  const cases = commands
    .map((c) => {
      const opts = table[c]!.options;
      const words = [...(SUBCOMMANDS[c] ?? []), ...flagsOf(withGlobals(opts))];
      return `    ${c}) words=${sq(words.join(" "))}; files=${sq([...fileFlags(opts), ...globalFiles].join(" "))} ;;`;
    })
    .join("\n");
  return `# bash completion for muster; load with: source <(muster completion bash)
_muster() {
  local cur prev cmd i words files
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  cmd=""
  for ((i = 1; i < COMP_CWORD; i++)); do
    case "\${COMP_WORDS[i]}" in -*) ;; *) cmd="\${COMP_WORDS[i]}"; break ;; esac
  done
  if [ -z "$cmd" ]; then
    COMPREPLY=($(compgen -W ${sq([...commands, "help", ...flagsOf(GLOBAL_OPTIONS)].join(" "))} -- "$cur"))
    return
  fi
  case "$cmd" in
${cases}
    *) words=${sq(flagsOf(GLOBAL_OPTIONS).join(" "))}; files=${sq(globalFiles.join(" "))} ;;
  esac
  case " $files " in *" $prev "*) COMPREPLY=($(compgen -f -- "$cur")); return ;; esac
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -F _muster muster
`;
}

export function zshCompletion(table: CompletionTable): string {
  const commands = Object.keys(table).sort();
  const described = commands.map((c) => sq(`${c}:${table[c]!.summary.replace(/:/g, "\\:")}`)).join(" ");
  const cases = commands
    .map((c) => {
      const opts = withGlobals(table[c]!.options);
      const specs = Object.entries(opts).map(([name, s]) => {
        const help = (s.help ?? "").replace(/[[\]:']/g, " ");
        const arg =
          s.type === "string"
            ? /FILE/.test(s.value ?? "")
              ? ":file:_files"
              : `:${s.value ?? "value"}: `
            : "";
        return sq(`--${name}[${help}]${arg}`);
      });
      const sub = SUBCOMMANDS[c] ? ` ${sq(`1:subcommand:(${SUBCOMMANDS[c]!.join(" ")})`)}` : "";
      return `    ${c}) _arguments ${specs.join(" ")}${sub} ;;`;
    })
    .join("\n");
  return `#compdef muster
# zsh completion for muster; load with: source <(muster completion zsh)
_muster() {
  local -a commands
  commands=(${described})
  if (( CURRENT == 2 )); then
    _describe 'command' commands
    return
  fi
  local cmd=\${words[2]}
  shift words; (( CURRENT-- ))
  case $cmd in
${cases}
  esac
}
compdef _muster muster
`;
}

export function completionScript(shell: string | undefined, table: CompletionTable): string {
  if (shell === "bash") return bashCompletion(table);
  if (shell === "zsh") return zshCompletion(table);
  throw new UsageError(
    shell === undefined
      ? "completion needs a shell: muster completion bash, or muster completion zsh"
      : `completion: no completion for ${shell}; use bash or zsh`,
  );
}
