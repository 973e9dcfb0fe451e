// The words the CLI puts in place of a system code or a bare HTTP status: what went wrong and what
// to do about it. An operator should never see only `ENOENT`, `ECONNREFUSED` or "status 502".

/** Why a file could not be read or written, in words (the caller adds what to do). */
export function fileProblem(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  switch (code) {
    case "ENOENT":
      return "it does not exist";
    case "EACCES":
    case "EPERM":
      return "permission denied (run as a user who may use it, e.g. with sudo)";
    case "EISDIR":
      return "it is a directory, not a file";
    case "ENOTDIR":
      return "a part of its path is not a directory";
    case "EROFS":
      return "it is on a read-only file system";
    case "ENOSPC":
      return "the disk is full";
    default:
      return (err as Error | null)?.message ?? String(err);
  }
}

/** Why the coordinator at `origin` could not be reached, with what to check. */
export function networkProblem(origin: string, err: unknown): string {
  const e = err as NodeJS.ErrnoException | null;
  const code = e?.code ?? "";
  const at = `cannot reach the coordinator at ${origin}`;
  switch (code) {
    case "ECONNREFUSED":
      return `${at}: nothing listens there; check that muster-coordinator runs (systemctl status muster-coordinator) and the port in --server`;
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return `${at}: that host name does not resolve; check the name in --server (or MUSTER_SERVER)`;
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return `${at}: no route to that address; check the address in --server and this machine's network`;
    case "ETIMEDOUT":
      return `${at}: no answer; check the address and that a firewall lets the port through`;
    case "ECONNRESET":
    case "EPIPE":
      return `${at}: the connection was cut; check that --server names the coordinator's HTTPS port`;
    default:
      if (/^no answer within/.test(e?.message ?? ""))
        return `${at}: ${e?.message}; check the address and that a firewall lets the port through`;
      return `${at}: ${e?.message || code || String(err)}`;
  }
}

/** A refusal without the contract's error body, by what the status means to an operator. */
export function answerProblem(status: number): string {
  if (status === 401) return "the coordinator did not accept the admin token";
  if (status === 403) return "the coordinator does not allow this with these credentials";
  if (status === 404)
    return "the coordinator does not know this request; it may run an older muster than this CLI (upgrade it)";
  if (status === 413) return "the request is too large for the coordinator";
  if (status === 429) return "the coordinator is busy with too many requests; wait a moment and try again";
  if (status >= 500)
    return "the coordinator failed while answering; see its log (journalctl -u muster-coordinator) and try again";
  return `the coordinator refused the request (code ${status}); see its log (journalctl -u muster-coordinator)`;
}
