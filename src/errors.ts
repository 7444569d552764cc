/**
 * The one error model of Spool. Every error the application raises on purpose is a
 * {@link SpoolError} with a stable machine-readable `code`; the HTTP edge maps the
 * subclasses to status codes (see `src/http/error-handler.ts`) and nothing else does.
 *
 * @example
 * throw new NotFoundError(`job ${id} not found`);
 */
export class SpoolError extends Error {
  /** Stable, snake_case identifier that clients can switch on. */
  readonly code: string;
  /** Optional structured details (for example zod issues). */
  readonly details: unknown;

  constructor(code: string, message: string, options?: { cause?: unknown; details?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.details = options?.details;
  }
}

/** Input that does not match its schema. */
export class ValidationError extends SpoolError {
  constructor(message: string, details?: unknown) {
    super('validation_failed', message, { details });
  }
}

/** A request body over the configured limit. */
export class PayloadTooLargeError extends SpoolError {
  constructor(limitBytes: number) {
    super('payload_too_large', `request body exceeds ${limitBytes} bytes`, { details: { limitBytes } });
  }
}

/** A request body in a content type the endpoint does not accept. */
export class UnsupportedMediaTypeError extends SpoolError {
  constructor(expected: string) {
    super('unsupported_media_type', `expected content-type ${expected}`);
  }
}

/** The addressed resource does not exist. */
export class NotFoundError extends SpoolError {
  constructor(message: string) {
    super('not_found', message);
  }
}

/** The request conflicts with the current state (for example an idempotency key reused with another body). */
export class ConflictError extends SpoolError {
  constructor(message: string, details?: unknown) {
    super('conflict', message, { details });
  }
}

/**
 * A conditional write whose condition did not hold (DynamoDB `ConditionalCheckFailed`,
 * S3 `PreconditionFailed`). Adapters raise it; the core decides what it means.
 */
export class ConditionFailedError extends SpoolError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('condition_failed', message, options);
  }
}

/**
 * A conditional request whose precondition does not hold, e.g. an `If-Match` naming a
 * version that is no longer current (HTTP 412). `details` says which version is.
 */
export class PreconditionFailedError extends SpoolError {
  constructor(message: string, details?: unknown) {
    super('precondition_failed', message, { details });
  }
}

/**
 * A capability this deployment does not have or cannot reach right now (HTTP 503), e.g.
 * the users and tasks endpoints where no SQL store is configured (`sql_not_configured`).
 */
export class ServiceUnavailableError extends SpoolError {
  constructor(code: string, message: string) {
    super(code, message);
  }
}

/** Configuration that is missing or invalid; lists every problem at once. */
export class ConfigError extends SpoolError {
  constructor(problems: readonly string[]) {
    super('invalid_config', `invalid configuration:\n  - ${problems.join('\n  - ')}`, { details: problems });
  }
}

/** Work that did not finish within its time limit. */
export class TimeoutError extends SpoolError {
  constructor(message: string) {
    super('timeout', message);
  }
}
