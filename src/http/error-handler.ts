import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { Logger } from 'pino';
import {
  ConditionFailedError,
  ConflictError,
  NotFoundError,
  PayloadTooLargeError,
  PreconditionFailedError,
  ServiceUnavailableError,
  SpoolError,
  UnsupportedMediaTypeError,
  ValidationError,
} from '../errors.js';

/** The JSON body of every error response. */
export interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

const STATUS_BY_ERROR: ReadonlyArray<[new (...args: never[]) => SpoolError, ContentfulStatusCode]> = [
  [ValidationError, 400],
  [NotFoundError, 404],
  [ConflictError, 409],
  [ConditionFailedError, 409],
  [PreconditionFailedError, 412],
  [PayloadTooLargeError, 413],
  [UnsupportedMediaTypeError, 415],
  [ServiceUnavailableError, 503],
];

// Codes for errors raised by Hono itself, matching the ones our own errors use.
const HTTP_CODES: Readonly<Record<number, string>> = { 400: 'bad_request', 413: 'payload_too_large', 415: 'unsupported_media_type' };

/**
 * The only place where errors become HTTP: known errors keep their code and message;
 * anything else is logged and answered with a generic 500 that leaks nothing.
 */
export function errorResponse(error: unknown, c: Context, logger: Logger): Response {
  if (error instanceof SpoolError) {
    const status = STATUS_BY_ERROR.find(([type]) => error instanceof type)?.[1] ?? 500;
    // The unread rest of an oversized body would otherwise be parsed as the next request.
    if (status === 413) c.header('Connection', 'close');
    if (status === 500) logger.error({ err: error }, 'request failed');
    return c.json(body(error.code, error.message, error.details), status);
  }
  if (error instanceof HTTPException && error.status < 500) {
    // Hono's own validation (e.g. malformed JSON) and protocol errors.
    return c.json(body(HTTP_CODES[error.status] ?? 'http_error', error.message || 'bad request'), error.status as ContentfulStatusCode);
  }
  logger.error({ err: error }, 'unexpected error');
  return c.json(body('internal_error', 'internal error'), 500);
}

function body(code: string, message: string, details?: unknown): ErrorBody {
  return details === undefined ? { error: { code, message } } : { error: { code, message, details } };
}
