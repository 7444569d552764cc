import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { PayloadTooLargeError, UnsupportedMediaTypeError } from '../errors.js';

/** Rejects bodies over `maxBytes` with 413, whether or not Content-Length is honest. */
export function limitBody(maxBytes: number): MiddlewareHandler {
  return bodyLimit({
    maxSize: maxBytes,
    onError: () => {
      throw new PayloadTooLargeError(maxBytes);
    },
  });
}

/** Requests with a body must say `application/json` (charset allowed); others get 415. */
export const requireJson: MiddlewareHandler = async (c, next) => {
  if (c.req.method === 'POST' || c.req.method === 'PUT' || c.req.method === 'PATCH') {
    const type = c.req.header('content-type');
    const length = c.req.header('content-length');
    const hasBody = (length !== undefined && length !== '0') || c.req.header('transfer-encoding') !== undefined;
    // A declared type must be JSON; a missing one is refused only when a body is known to follow.
    if (type !== undefined ? !/^application\/json\s*(;|$)/i.test(type) : hasBody) throw new UnsupportedMediaTypeError('application/json');
  }
  await next();
};
