import * as z from "zod";

// Cluster events as the REST API shows them. Messages are for people; they never hold a secret.
export const EVENT_TYPES = [
  "node.enrolled",
  "node.connected",
  "node.disconnected",
  "node.checks.passed",
  "node.checks.failed",
  "node.join.started",
  "node.phase",
  "node.join.succeeded",
  "node.join.failed",
  "node.retry",
  "node.lost",
  "node.recovered",
  "node.removed",
  "node.rejoin.cleanup",
  "cluster.token.captured",
  "cluster.token.refused",
  "cluster.agent-token.legacy",
  "cluster.agent-token.enforced",
  "node.approval.pending",
  "node.approved",
  "cluster.spec.updated",
  "join-token.created",
  "join-token.revoked",
  "operation.requested",
  "operation.started",
  "operation.step",
  "operation.succeeded",
  "operation.failed",
  "cluster.audit",
  // An admin API call that changed something (or was refused): what, by whom, from where (audit).
  "admin.action",
] as const;
export const EventTypeSchema = z.enum(EVENT_TYPES);
export type EventType = z.output<typeof EventTypeSchema>;

export const EventSchema = z.strictObject({
  seq: z.number().int().min(1),
  time: z.string(),
  type: EventTypeSchema,
  node: z.string().optional(),
  message: z.string(),
});
export type MusterEvent = z.output<typeof EventSchema>;
