import * as z from "zod";

// What an agent reports about its host. Collected by the agent, judged by checks on both sides.
export const InterfaceFactSchema = z.strictObject({
  name: z.string().min(1).max(64),
  up: z.boolean(),
  mac: z.string().max(64).default(""),
  ipv4: z
    .array(z.strictObject({ address: z.string().max(64), prefix: z.number().int().min(0).max(32) }))
    .max(64),
});

/** A machine's stable identity: /etc/machine-id, 32 lowercase hex digits. */
export const MachineIdSchema = z.string().regex(/^[0-9a-f]{32}$/, "must be a 32-hex-digit machine id");

export const NodeFactsSchema = z.strictObject({
  hostname: z.string().min(1).max(253),
  machineId: MachineIdSchema,
  os: z.strictObject({
    platform: z.string().max(64),
    distro: z.string().max(128),
    release: z.string().max(64),
    kernel: z.string().max(128),
    arch: z.string().max(32),
  }),
  cpus: z.number().int().min(0).max(100000),
  memoryBytes: z.number().min(0),
  diskFreeBytes: z.number().min(0),
  swapBytes: z.number().min(0),
  interfaces: z.array(InterfaceFactSchema).max(256),
  defaultRoute: z
    .strictObject({ interface: z.string().max(64), gateway: z.string().max(64).optional() })
    .optional(),
  /** The IPv4 address the node uses for the cluster (node-ip). */
  address: z.string().max(64),
  rke2: z
    .strictObject({
      installed: z.boolean(),
      version: z.string().max(64).optional(),
      role: z.enum(["server", "agent"]).optional(),
    })
    .default({ installed: false }),
});

export type NodeFacts = z.output<typeof NodeFactsSchema>;
export type InterfaceFact = z.output<typeof InterfaceFactSchema>;
