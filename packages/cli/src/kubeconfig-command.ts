import { chmodSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { KubeconfigViewSchema } from "@muster/shared";
import { UsageError } from "./args.ts";
import { ApiError } from "./client.ts";
import { type Command, noPositionals } from "./commands.ts";
import { fileProblem } from "./system-errors.ts";

// `muster kubeconfig [-o FILE]` (docs/reference.md#kubeconfig): the cluster's admin kubeconfig, read
// by a server's agent and pointing at the registration address. Written 0600 to FILE (replacing it
// atomically, so no reader sees half a file or a wider mode), or printed on stdout. `-o json` keeps
// the usual JSON output ({"kubeconfig": "..."}), `-o text` is stdout too.

/** Writes `text` to `file` with mode 0600 whatever the umask or an older file's mode. */
export function writeSecretFile(file: string, text: string): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  try {
    writeFileSync(tmp, text, { mode: 0o600, flag: "wx" });
    chmodSync(tmp, 0o600);
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === "ENOENT"
        ? `its directory ${path.dirname(file)} does not exist; create it or pass another -o FILE`
        : code === "EACCES" || code === "EPERM"
          ? "permission denied; pass -o FILE in a directory you can write to"
          : code === "EISDIR"
            ? "it is a directory; pass a file name"
            : fileProblem(err);
    throw new ApiError(`cannot write the kubeconfig to ${file}: ${why}`);
  }
}

export const KUBECONFIG_COMMANDS: Record<string, Command> = {
  kubeconfig: {
    summary: "the admin kubeconfig, its server the registration address (-o FILE writes it 0600)",
    usage: "muster kubeconfig [-o FILE | -o json]",
    options: {
      output: {
        type: "string",
        short: "o",
        value: "FILE|json",
        help: 'write the kubeconfig to FILE (mode 0600); json prints {"kubeconfig": ...}; default stdout',
      },
    },
    async run(ctx) {
      noPositionals(ctx);
      const o = ctx.values["output"];
      if (o === "") throw new UsageError("-o/--output: needs a FILE name");
      const view = await ctx.client.request("GET", "/v1/kubeconfig", KubeconfigViewSchema);
      if (o === undefined || o === "text") ctx.out(view.kubeconfig.replace(/\n$/, ""));
      else if (o === "json") ctx.out(JSON.stringify(view, null, 2));
      else {
        const file = path.resolve(String(o));
        writeSecretFile(file, view.kubeconfig);
        ctx.err(
          `muster: wrote the admin kubeconfig to ${file} (mode 0600); kubectl --kubeconfig ${file} get nodes`,
        );
      }
    },
  },
};
