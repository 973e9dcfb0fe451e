import type { OperationAccepted, OperationView } from "@muster/shared";
import type { OperationRecord } from "../../store/operations-repo.ts";
import { iso } from "../time.ts";

// What the REST API shows of an operation, field by field (params and step args stay inside).

export function operationView(op: OperationRecord): OperationView {
  return {
    id: op.id,
    type: op.type,
    node: op.node,
    state: op.state,
    ...(op.reason !== null ? { reason: op.reason } : {}),
    steps: op.steps.map((s) => ({
      name: s.name,
      state: s.state,
      ...(s.message !== null ? { message: s.message } : {}),
      ...(s.startedAt !== null ? { startedAt: iso(s.startedAt) } : {}),
      ...(s.endedAt !== null ? { endedAt: iso(s.endedAt) } : {}),
      ...(s.attempts ? { attempts: s.attempts } : {}),
      ...(s.lastError ? { lastError: s.lastError } : {}),
      ...(s.restarts ? { restarts: s.restarts } : {}),
    })),
    createdAt: iso(op.createdAt),
    ...(op.startedAt !== null ? { startedAt: iso(op.startedAt) } : {}),
    ...(op.endedAt !== null ? { endedAt: iso(op.endedAt) } : {}),
    ...(op.requestedBy !== null ? { requestedBy: op.requestedBy } : {}),
  };
}

export function operationAccepted(op: OperationRecord): OperationAccepted {
  return { operation: { id: op.id, type: op.type, node: op.node, state: op.state } };
}
