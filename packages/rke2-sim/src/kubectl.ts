// kubectl (simulator): the stand-in RKE2 ships at <data-dir>/bin/kubectl, for the simulated API on
// :6443 (see README.md). Verbs: get, cordon, uncordon, drain, delete, annotate, label, version;
// messages and exit statuses as kubectl's. Use it like the real one:
//   KUBECONFIG=/etc/rancher/rke2/rke2.yaml /var/lib/rancher/rke2/bin/kubectl get nodes -o json
import { parseArgs, UsageError } from "./kubectl/args.ts";
import { ApiFailure, Client, fromServer, KubectlError, loadConnection } from "./kubectl/client.ts";
import { drain } from "./kubectl/drain.ts";
import { annotate, cordon, del, get, type Io, version } from "./kubectl/verbs.ts";

const USAGE = `kubectl controls the Kubernetes cluster manager (rke2 simulator).

Basic Commands:
  get           Display one or many resources
  delete        Delete resources by names
  annotate      Update the annotations on a resource
  label         Update the labels on a resource

Cluster Management Commands:
  cordon        Mark node as unschedulable
  uncordon      Mark node as schedulable
  drain         Drain node in preparation for maintenance

Other Commands:
  version       Print the client and server version information

Usage:
  kubectl [flags] [options]
`;

const io: Io = {
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
};

async function main(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    const verb = argv.find((a) => !a.startsWith("-"));
    io.err(`error: ${err.message}\nSee 'kubectl ${verb ? `${verb} ` : ""}--help' for usage.\n`);
    return 1;
  }
  const { verb } = parsed;
  if (!verb || verb === "help" || parsed.flags.has("help")) {
    io.out(USAGE);
    return 0;
  }
  const client = new Client(loadConnection(parsed.flags.get("kubeconfig")));
  switch (verb) {
    case "get":
      return get(client, parsed, io);
    case "cordon":
      return cordon(client, parsed, io, true);
    case "uncordon":
      return cordon(client, parsed, io, false);
    case "drain":
      return drain(client, parsed, io);
    case "delete":
      return del(client, parsed, io);
    case "annotate":
      return annotate(client, parsed, io, "annotations");
    case "label":
      return annotate(client, parsed, io, "labels");
    case "version":
      return version(client, parsed, io);
    default:
      io.err(`error: unknown command "${verb}" for "kubectl"\nRun 'kubectl --help' for usage.\n`);
      return 1;
  }
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (err) {
  if (err instanceof UsageError)
    io.err(`${err.message.startsWith("error:") ? "" : "error: "}${err.message}\n`);
  else if (err instanceof KubectlError) io.err(`${err.message}\n`);
  else if (err instanceof ApiFailure) io.err(`${fromServer(err)}\n`);
  else io.err(`error: ${(err as Error).message}\n`);
  process.exitCode = 1;
}
