// One catalogue of error codes shared by coordinator, agent and CLI, so an operator sees the same
// code wherever a failure surfaces and scripts can branch on it.
export const ErrorCodes = {
  VALIDATION_FAILED: { status: 400, message: "Invalid input" },
  BODY_TOO_LARGE: { status: 413, message: "Request body too large" },
  UNAUTHORIZED: { status: 401, message: "Missing or invalid credentials" },
  FORBIDDEN: { status: 403, message: "Not allowed" },
  NOT_FOUND: { status: 404, message: "Not found" },
  CONFLICT: { status: 409, message: "Conflicts with the current state" },
  /** A join, removal, upgrade or restore holds the control-plane lease. */
  OPERATION_IN_FLIGHT: { status: 409, message: "Another control-plane operation is in flight" },
  /** Removing the server would leave etcd without quorum, or it has none now. */
  QUORUM_GUARD: { status: 409, message: "Refused: etcd would lose quorum" },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: "Body must be JSON" },
  TOO_MANY_REQUESTS: { status: 429, message: "Too many requests" },
  INTERNAL: { status: 500, message: "Internal error" },
  UNAVAILABLE: { status: 503, message: "Service unavailable" },
} as const;

export type ErrorCode = keyof typeof ErrorCodes;

export interface ErrorDetail {
  path: string;
  message: string;
  /** The figure or name the detail is about (e.g. a quorum guard's healthy voters), when there is one. */
  value?: string | number | boolean | null;
}

/** A named, expected failure. Its message is safe to show to the caller (never holds a secret). */
export class MusterError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: ErrorDetail[] | undefined;

  constructor(code: ErrorCode, message?: string, details?: ErrorDetail[]) {
    super(message ?? ErrorCodes[code].message);
    this.name = "MusterError";
    this.code = code;
    this.status = ErrorCodes[code].status;
    this.details = details;
  }

  toBody(): ErrorBody {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.details && this.details.length > 0 ? { details: this.details } : {}),
      },
    };
  }
}

export interface ErrorBody {
  error: { code: string; message: string; details?: ErrorDetail[] };
}

export function isMusterError(err: unknown): err is MusterError {
  return err instanceof MusterError;
}
