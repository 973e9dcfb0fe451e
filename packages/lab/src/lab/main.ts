// Entry point of `npm run lab -- <verb>` (see cli.ts).
import { runLab } from "./cli.ts";

const code = await runLab(process.argv.slice(2), {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
});
// Exit once output is flushed: keep-alive sockets to the coordinator must not hold the command open,
// and the lab's own processes are detached, so they stay.
process.stdout.write("", () => process.exit(code));
