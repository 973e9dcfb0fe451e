// Exec*= command lines (systemd.service(5) "Command lines"): prefixes, quoting, and environment
// variable substitution ("${VAR}" stays one word, a lone "$VAR" word splits on whitespace). As in
// systemd, substitution happens inside quotes too; "$$" is a literal "$".

export interface ExecCommand {
  /** The line without its prefix characters. */
  command: string;
  /** "-" prefix: a failing exit status is recorded but ignored. */
  ignoreFailure: boolean;
}

export function parseExecLine(value: string): ExecCommand {
  const m = /^([-@:+!]*)(.*)$/s.exec(value.trim())!;
  return { command: m[2]!.trim(), ignoreFailure: m[1]!.includes("-") };
}

const ESCAPES: Record<string, string> = { n: "\n", t: "\t", s: " ", "\\": "\\", '"': '"', "'": "'" };

/** Splits a command line into argv, substituting variables from env. */
export function commandArgv(command: string, env: Record<string, string | undefined>): string[] {
  const argv: string[] = [];
  let word = "";
  let inWord = false;
  let quote: '"' | "'" | null = null;
  const flush = () => {
    if (inWord) argv.push(word);
    word = "";
    inWord = false;
  };
  for (let i = 0; i < command.length; i++) {
    const c = command[i]!;
    if (quote === null && /\s/.test(c)) {
      flush();
      continue;
    }
    if (c === quote) {
      quote = null;
      continue;
    }
    if (quote === null && (c === '"' || c === "'")) {
      quote = c;
      inWord = true;
      continue;
    }
    if (c === "\\" && quote !== "'" && i + 1 < command.length) {
      const next = command[++i]!;
      word += ESCAPES[next] ?? next;
      inWord = true;
      continue;
    }
    if (c === "$" && command[i + 1] === "$") {
      word += "$";
      inWord = true;
      i++;
      continue;
    }
    if (c === "$") {
      const braced = /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}/.exec(command.slice(i));
      const bare = braced ? null : /^\$([A-Za-z_][A-Za-z0-9_]*)/.exec(command.slice(i));
      const match = braced ?? bare;
      if (match) {
        const value = env[match[1]!] ?? "";
        i += match[0].length - 1;
        const endsWord = i + 1 >= command.length || /\s/.test(command[i + 1]!);
        if (bare && quote === null && !inWord && endsWord) {
          argv.push(...value.split(/\s+/).filter(Boolean));
        } else {
          word += value;
          inWord = true;
        }
        continue;
      }
    }
    word += c;
    inWord = true;
  }
  flush();
  return argv;
}

/** Parses an EnvironmentFile= file: KEY=VALUE lines, # and ; comments, optional quotes. */
export function parseEnvFile(text: string): [string, string][] {
  const out: [string, string][] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!.trim();
    while (line.endsWith("\\") && i + 1 < lines.length) line = line.slice(0, -1) + lines[++i]!.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const eq = line.indexOf("=");
    if (eq <= 0) continue;
    const key = line.slice(0, eq).trim();
    let value = line.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
      value = value.slice(1, -1).replace(/\\(.)/g, "$1");
    } else if (value.length >= 2 && value.startsWith("'") && value.endsWith("'")) {
      value = value.slice(1, -1);
    }
    out.push([key, value]);
  }
  return out;
}
