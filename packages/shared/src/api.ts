import * as z from "zod";
import { CheckResultSchema } from "./checks.ts";
import { EventSchema } from "./events.ts";

// REST bodies and responses (docs/reference.md). Requests are strict; responses are described so the
// operator CLI and tests can validate what the coordinator says.
export const NODE_STATES = [
  "enrolled",
  "checking",
  "waiting",
  "check-failed",
  "joining",
  "joined",
  "failed",
  // Day two (docs/reference.md#node-loss): the agent gone and the RKE2 Node not Ready past
  // timeouts.nodeLost; being removed by an operation; removed (its name may be enrolled again).
  "lost",
  "removing",
  "removed",
] as const;
export const NodeStateSchema = z.enum(NODE_STATES);
export type NodeState = z.output<typeof NodeStateSchema>;

export const CLUSTER_PHASES = [
  "empty",
  "initializing",
  "forming",
  "ready",
  "degraded",
  "blocked",
  "upgrading",
  "restoring",
] as const;
export type ClusterPhase = (typeof CLUSTER_PHASES)[number];

export const MAX_JOIN_TOKEN_TTL = 30 * 24 * 3600;
export const DEFAULT_JOIN_TOKEN_TTL = 24 * 3600;

export const CreateJoinTokenBodySchema = z.strictObject({
  role: z.enum(["server", "agent"]),
  ttlSeconds: z.number().int().min(60).max(MAX_JOIN_TOKEN_TTL).optional(),
  /** Lets a machine take over a known node identity (same machine id) without `muster nodes approve`. */
  replace: z.boolean().optional(),
  /** How many enrolments it admits (1: a one-off server); absent: any number until it expires. */
  maxUses: z.number().int().min(1).max(100000).optional(),
});
export type CreateJoinTokenBody = z.output<typeof CreateJoinTokenBodySchema>;

export const JoinTokenCreatedSchema = z.strictObject({
  id: z.string(),
  token: z.string(),
  role: z.enum(["server", "agent"]),
  expiresAt: z.string(),
  command: z.string(),
});
export type JoinTokenCreated = z.output<typeof JoinTokenCreatedSchema>;

export const JoinTokenInfoSchema = z.strictObject({
  id: z.string(),
  role: z.enum(["server", "agent"]),
  createdAt: z.string(),
  expiresAt: z.string(),
  revoked: z.boolean(),
  expired: z.boolean(),
  uses: z.number().int(),
  maxUses: z.number().int().optional(),
  lastUsedAt: z.string().optional(),
  replace: z.boolean().optional(),
});
export type JoinTokenInfo = z.output<typeof JoinTokenInfoSchema>;

export const NodeViewSchema = z.strictObject({
  name: z.string(),
  role: z.enum(["server", "agent"]),
  init: z.boolean(),
  state: NodeStateSchema,
  address: z.string(),
  connected: z.boolean(),
  message: z.string().optional(),
  phase: z.string().optional(),
  checks: z.array(CheckResultSchema).optional(),
  enrolledAt: z.string(),
  joinedAt: z.string().optional(),
  /** Another machine asks to take over this node's identity and waits for `muster nodes approve`. */
  claim: z
    .strictObject({
      state: z.enum(["pending-approval", "approved"]),
      reason: z.string(),
      address: z.string(),
      hostname: z.string(),
      requestedAt: z.string(),
    })
    .optional(),
});
export type NodeView = z.output<typeof NodeViewSchema>;

export const ClusterViewSchema = z.strictObject({
  name: z.string(),
  phase: z.enum(CLUSTER_PHASES),
  registrationAddress: z.string().nullable(),
  servers: z.strictObject({
    total: z.number().int(),
    ready: z.number().int(),
    quorum: z.number().int(),
    faultTolerance: z.number().int(),
  }),
  agents: z.strictObject({ total: z.number().int(), ready: z.number().int() }),
  joinInFlight: z.strictObject({ node: z.string(), since: z.string() }).nullable(),
  warnings: z.array(z.string()),
});
export type ClusterView = z.output<typeof ClusterViewSchema>;

export const PlanStepSchema = z.strictObject({
  node: z.string(),
  role: z.enum(["server", "agent"]),
  status: z.enum(["done", "running", "waiting", "blocked"]),
  reason: z.string(),
});
export const PlanViewSchema = z.strictObject({ steps: z.array(PlanStepSchema) });
export type PlanStep = z.output<typeof PlanStepSchema>;
export type PlanView = z.output<typeof PlanViewSchema>;

export const EventsQuerySchema = z.strictObject({
  after: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  /** Long-poll: with no event after `after`, wait up to this long for one (0: answer at once). */
  waitSeconds: z.coerce.number().int().min(0).max(60).default(0),
});
export const EventsPageSchema = z.strictObject({ events: z.array(EventSchema), next: z.number().int() });
export type EventsPage = z.output<typeof EventsPageSchema>;

export const NodeNameParamSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/, "must be a node name"),
});
export const TokenIdParamSchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9]{6}$/, "must be a join token id"),
});
