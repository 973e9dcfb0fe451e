import { parseRke2Token } from "@muster/shared";
import { RKE2_SERVER_DB, RKE2_TOKEN_FILE } from "../rke2-paths.ts";
import { type Check, fail, pass, warn } from "./types.ts";

// An RKE2 already on the node is reused when it is what we want, and blocks when it is not: the
// wrong role (RKE2 refuses to run server and agent together), or server data from another cluster
// (etcd would come up as that cluster).
const UNINSTALL = "run rke2-uninstall.sh (removes RKE2 and /var/lib/rancher/rke2), then re-run the checks";

export const rke2ExistingCheck: Check = {
  name: "rke2-existing",
  async run({ facts, request, host }) {
    const { installed, version, role } = facts.rke2;
    const serverData = await host.files.exists(RKE2_SERVER_DB);
    if (!installed && !serverData) return pass("RKE2 is not installed yet");
    if (!installed)
      return fail(
        `RKE2 server data exists at ${RKE2_SERVER_DB} but RKE2 is not installed (left from an earlier cluster)`,
        "remove /var/lib/rancher/rke2 if that cluster is gone, then re-run the checks",
      );
    if (role && role !== request.role)
      return fail(
        `RKE2 is set up here as ${role === "server" ? "a server" : "an agent"} but this node should be ${request.role === "server" ? "a server" : "an agent"}`,
        UNINSTALL,
      );
    if (serverData && request.role === "agent")
      return fail(`RKE2 server data exists at ${RKE2_SERVER_DB} but this node is an agent`, UNINSTALL);
    if (serverData && request.clusterCaHash) {
      const foreign = await tokenCaDiffers(host.files, request.clusterCaHash);
      if (foreign) return fail(`RKE2 data here belongs to another cluster (its CA differs)`, UNINSTALL);
    }
    if (request.expectedVersion && version !== request.expectedVersion)
      return warn(
        `RKE2 ${version ?? "(unknown version)"} is installed; the plan wants ${request.expectedVersion}`,
        "the install phase will run the installer for the wanted version",
      );
    return pass(`RKE2 ${version ?? ""} already installed${role ? ` as ${role}` : ""}; it will be reused`);
  },
};

async function tokenCaDiffers(files: { readTextIfExists(p: string): Promise<string | null> }, want: string) {
  const raw = await files.readTextIfExists(RKE2_TOKEN_FILE);
  if (!raw) return false;
  try {
    const hash = parseRke2Token(raw).caHash;
    return hash !== null && hash !== want;
  } catch {
    return false;
  }
}
