import { isRfc1123Hostname } from "@muster/shared";
import { type Check, fail, pass, warn } from "./types.ts";

// Identity of the host: who runs the agent, what it runs on, what it is called.
export const SUPPORTED_ARCHES = ["amd64", "arm64", "s390x"];

export const rootCheck: Check = {
  name: "root",
  run: ({ host }) =>
    host.identity.uid === 0
      ? pass("running as root")
      : fail(
          `running as uid ${host.identity.uid}; installing RKE2 needs root`,
          "run as root (sudo muster-agent ...)",
        ),
};

export const osArchCheck: Check = {
  name: "os-arch",
  run: ({ facts }) => {
    const { platform, arch, distro, release } = facts.os;
    if (platform !== "linux")
      return fail(`platform is ${platform}; RKE2 runs on Linux only`, "use a Linux host");
    if (!SUPPORTED_ARCHES.includes(arch))
      return fail(
        `architecture ${arch} is not supported by RKE2 (supported: ${SUPPORTED_ARCHES.join(", ")})`,
        "use an amd64, arm64 or s390x host",
      );
    return pass(`linux/${arch} (${distro} ${release})`.trim());
  },
};

export const hostnameCheck: Check = {
  name: "hostname",
  run: ({ facts }) => {
    const name = facts.hostname;
    if (isRfc1123Hostname(name)) return pass(`hostname ${name} is a valid node name`);
    if (isRfc1123Hostname(name.toLowerCase()))
      return warn(
        `hostname ${name} has upper-case letters; Kubernetes will register the node as ${name.toLowerCase()}`,
        `hostnamectl set-hostname ${name.toLowerCase()}`,
      );
    return fail(
      `hostname ${JSON.stringify(name)} is not a valid RFC 1123 name (a-z, 0-9, '-', '.'; at most 63 per label)`,
      "hostnamectl set-hostname <valid-name>, or pass --node-name to the bootstrap",
    );
  },
};
