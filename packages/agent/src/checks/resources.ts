import { type Check, fail, formatGiB, GiB, pass, warn } from "./types.ts";

// Capacity against the role's minimums from the cluster spec (checks.server / checks.agent).
export const cpuCheck: Check = {
  name: "cpu",
  run: ({ facts, request }) => {
    const need = request.minimums.cpus;
    return facts.cpus >= need
      ? pass(`${facts.cpus} CPUs (${request.role} minimum ${need})`)
      : fail(
          `${facts.cpus} CPUs, a ${request.role} needs at least ${need}`,
          `add CPUs, or lower checks.${request.role}.cpus in the cluster spec`,
        );
  },
};

export const memoryCheck: Check = {
  name: "memory",
  run: ({ facts, request }) => {
    const need = request.minimums.memoryGiB;
    // Firmware and the kernel keep a little memory back: allow 5% below the nominal size.
    const ok = facts.memoryBytes >= need * GiB * 0.95;
    return ok
      ? pass(`${formatGiB(facts.memoryBytes)} memory (${request.role} minimum ${need} GiB)`)
      : fail(
          `${formatGiB(facts.memoryBytes)} memory, a ${request.role} needs at least ${need} GiB`,
          `add memory, or lower checks.${request.role}.memoryGiB in the cluster spec`,
        );
  },
};

export const diskCheck: Check = {
  name: "disk",
  run: ({ facts, request }) => {
    const need = request.minimums.diskGiB;
    return facts.diskFreeBytes >= need * GiB
      ? pass(`${formatGiB(facts.diskFreeBytes)} free for /var/lib/rancher (minimum ${need} GiB)`)
      : fail(
          `${formatGiB(facts.diskFreeBytes)} free for /var/lib/rancher, a ${request.role} needs ${need} GiB`,
          `free space or mount a larger disk at /var/lib/rancher, or lower checks.${request.role}.diskGiB`,
        );
  },
};

export const swapCheck: Check = {
  name: "swap",
  run: ({ facts }) =>
    facts.swapBytes === 0
      ? pass("swap is off")
      : warn(
          `swap is on (${formatGiB(facts.swapBytes)}); the kubelet is happier without it`,
          "swapoff -a, and remove swap entries from /etc/fstab",
        ),
};
