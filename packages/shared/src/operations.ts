import * as z from "zod";

// Long-running operations (removal, upgrade, backup, restore, agent-token rollout) as the REST API
// shows them: persisted, made of named steps that each record what they did, resumable after a
// restart. Control-plane operations hold the same lease as a server join (one at a time).
export const OPERATION_TYPES = ["remove", "rejoin", "upgrade", "backup", "restore", "agent-token"] as const;
export const OperationTypeSchema = z.enum(OPERATION_TYPES);
export type OperationType = z.output<typeof OperationTypeSchema>;

export const OPERATION_STATES = ["pending", "running", "succeeded", "failed"] as const;
export const OperationStateSchema = z.enum(OPERATION_STATES);
export type OperationState = z.output<typeof OperationStateSchema>;

export const STEP_STATES = ["pending", "running", "succeeded", "failed", "skipped"] as const;
export const StepStateSchema = z.enum(STEP_STATES);
export type StepState = z.output<typeof StepStateSchema>;

export const OperationStepViewSchema = z.strictObject({
  name: z.string(),
  state: StepStateSchema,
  message: z.string().optional(),
  startedAt: z.string().optional(),
  endedAt: z.string().optional(),
  /** How many times the step was started (more than 1: it was retried or resumed). */
  attempts: z.number().int().optional(),
  /** The error of the last attempt that did not succeed. */
  lastError: z.string().optional(),
  /** How many coordinator restarts resumed the operation at this step (it ran again from its start). */
  restarts: z.number().int().optional(),
});
export type OperationStepView = z.output<typeof OperationStepViewSchema>;

export const OperationViewSchema = z.strictObject({
  id: z.string(),
  type: OperationTypeSchema,
  /** The node it is about (removal), or null for cluster-wide ones (upgrade, restore, backup). */
  node: z.string().nullable(),
  state: OperationStateSchema,
  /** What it waits for now, or why it failed. */
  reason: z.string().optional(),
  steps: z.array(OperationStepViewSchema),
  createdAt: z.string(),
  startedAt: z.string().optional(),
  endedAt: z.string().optional(),
  /** Who asked: the client address of the admin request. */
  requestedBy: z.string().optional(),
});
export type OperationView = z.output<typeof OperationViewSchema>;

/** 200 answer of GET /v1/operations: every operation, newest first. */
export const OperationListSchema = z.strictObject({ operations: z.array(OperationViewSchema) });
export type OperationList = z.output<typeof OperationListSchema>;

/** 202 answer of DELETE /v1/nodes/:name, POST /v1/upgrades, /v1/backups, /v1/restores. */
export const OperationAcceptedSchema = z.strictObject({
  operation: z.strictObject({
    id: z.string(),
    type: OperationTypeSchema,
    node: z.string().nullable(),
    state: OperationStateSchema,
  }),
});
export type OperationAccepted = z.output<typeof OperationAcceptedSchema>;

export const OperationIdSchema = z.string().regex(/^op-[a-z0-9-]{6,64}$/, "must be an operation id");

/** POST /v1/agent-token/migration takes no options: an empty object, or no body. */
export const AgentTokenMigrationBodySchema = z.strictObject({});
