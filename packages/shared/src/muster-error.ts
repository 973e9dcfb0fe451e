// The machinery of the error catalogue (errors.ts): the codes with their HTTP status, MusterError,
// and defineError, which makes one catalogue class (fastify's createError style).
// A new code is one line in ErrorCodes; a new error is one defineError() in errors.ts.
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
  /** The agent-token migration asked for on a cluster that already uses the agent token. */
  NOT_LEGACY: { status: 409, message: "The cluster already uses the agent token" },
  /** A known node identity asked for by another machine: it waits for `muster nodes approve`. */
  PENDING_APPROVAL: { status: 409, message: "Waiting for the operator's approval" },
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

/** What an error's arguments become: its message, and the fields it names when there are any. */
export type ErrorDescription = string | { message: string; details?: ErrorDetail[] | undefined };

/** A catalogue entry: `new Cls(...args)` is a MusterError with the entry's code, status and name. */
export interface MusterErrorClass<A extends unknown[] = never[]> {
  new (...args: A): MusterError;
  readonly code: ErrorCode;
  readonly status: number;
  /** The class name: stable, so logs and tests may rely on it (bundling does not rename it). */
  readonly name: string;
}

const catalogue = new Map<string, MusterErrorClass>();

/**
 * Defines one error of the catalogue. `name` is the class's name (given, not inferred, so it stays
 * the same in a bundle); `describe` turns the throw site's arguments into the message.
 */
export function defineError<A extends unknown[]>(
  name: string,
  code: ErrorCode,
  describe: (...args: A) => ErrorDescription,
): MusterErrorClass<A> {
  if (catalogue.has(name)) throw new Error(`error ${name} is defined twice`);
  const Defined = class extends MusterError {
    static readonly code = code;
    static readonly status = ErrorCodes[code].status;
    constructor(...args: A) {
      const described = describe(...args);
      if (typeof described === "string") super(code, described);
      else super(code, described.message, described.details);
      this.name = name;
    }
  };
  Object.defineProperty(Defined, "name", { value: name });
  catalogue.set(name, Defined as unknown as MusterErrorClass);
  return Defined;
}

/** Every defined error, in definition order (tests, and a reference of codes). */
export function errorCatalogue(): readonly MusterErrorClass[] {
  return [...catalogue.values()];
}
