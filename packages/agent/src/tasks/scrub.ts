// Text from a child process (kubectl's stderr) may quote a credential: a bearer token, a join token,
// a kubeconfig's key data. Before such text goes into a task's message it is scrubbed of anything
// that looks like one. Lowercase paths and node names survive; long random-looking runs do not.
const REDACTED = "[redacted]";

const RULES: Array<[RegExp, string | ((match: string, ...groups: string[]) => string)]> = [
  [/-----BEGIN [A-Z ]+-----[\s\S]*?(?:-----END [A-Z ]+-----|$)/g, REDACTED],
  [/K10[0-9a-f]{64}::[^\s"']+/g, REDACTED],
  [/\beyJ[\w-]+\.[\w-]+\.[\w-]*/g, REDACTED],
  [/\b(bearer|basic)\s+[^\s"']+/gi, `$1 ${REDACTED}`],
  [
    /\b(token|password|passwd|secret|client-key-data|client-certificate-data|certificate-authority-data)(["']?\s*[:=]\s*["']?)[^\s"',;}]+/gi,
    `$1$2${REDACTED}`,
  ],
  [/\b[0-9a-f]{32,}\b/gi, REDACTED],
  // base64 of random bytes: a long run with digits and capitals (a lowercase path has neither).
  [/[A-Za-z0-9+/]{40,}={0,2}/g, (m) => (/[0-9]/.test(m) && /[A-Z]/.test(m) ? REDACTED : m)],
];

export function scrubSecrets(text: string): string {
  let out = text;
  for (const [re, replacement] of RULES) out = out.replace(re, replacement as never);
  return out;
}

/**
 * The line of a CLI's stderr that says what went wrong: its first "error" line, else its first
 * line that is not a warning (kubectl drain prints warnings first), else its first line; scrubbed.
 */
export function errorLine(stderr: string, max = 500): string {
  const lines = stderr
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);
  const line =
    lines.find((l) => /^error\b/i.test(l)) ?? lines.find((l) => !/^warning\b/i.test(l)) ?? lines[0] ?? "";
  const clean = scrubSecrets(line);
  return clean.length > max ? `${clean.slice(0, max)}...` : clean;
}
