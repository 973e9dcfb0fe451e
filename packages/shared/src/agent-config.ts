import * as z from "zod";
import { JOIN_TOKEN_PATTERN } from "./join-token.ts";

// /etc/muster/agent.yaml (0600). Written by the bootstrap with a join token; the agent rewrites it
// after enrolment with its node name and own credential, dropping the single-use join token.
export const AGENT_CONFIG_PATH = "/etc/muster/agent.yaml";
export const PIN_PATTERN = /^sha256\/\/[A-Za-z0-9+/]{43}=$/;

export const AgentConfigSchema = z
  .strictObject({
    coordinatorUrl: z.url({ protocol: /^https$/, error: "must be an https:// URL" }),
    pin: z.string().regex(PIN_PATTERN, "must be sha256//<base64 SPKI hash>, as curl --pinnedpubkey takes"),
    joinToken: z.string().regex(JOIN_TOKEN_PATTERN, "must be a join token <6>.<16>").optional(),
    node: z.string().min(1).max(63).optional(),
    credential: z.string().min(16).max(256).optional(),
    /** Operator overrides passed to the bootstrap. */
    nodeName: z.string().min(1).max(63).optional(),
    address: z.string().max(64).optional(),
    stateDir: z.string().startsWith("/").default("/var/lib/muster/agent"),
  })
  .refine((c) => c.joinToken !== undefined || (c.node !== undefined && c.credential !== undefined), {
    message: "needs either joinToken, or node and credential",
    path: ["joinToken"],
  });
export type AgentConfig = z.output<typeof AgentConfigSchema>;
