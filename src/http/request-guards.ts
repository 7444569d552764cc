import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { PayloadTooLargeError, UnsupportedMediaTypeError } from '../errors.js';

/**
 * Rejects bodies over `maxBytes` with 413, whether or not Content-Length is honest.
 *
 * A request that declares its length (and no Transfer-Encoding) is judged by the header alone,
 * read through `c.req.header`, and a GET or HEAD has no body to limit: neither touches
 * `c.req.raw.body`. That matters on @hono/node-server, where touching it builds a full
 * web `Request` with a `ReadableStream` over the socket (and the later `c.req.json()` then
 * reads through that stream) instead of reading the body straight from the socket: about a
 * tenth of the event loop's time per request under load. Any other request (chunked, or no
 * length) is counted as it streams in, by Hono's own middleware.
 */
export function limitBody(maxBytes: number): MiddlewareHandler {
  const streamed = bodyLimit({
    maxSize: maxBytes,
    onError: () => {
      throw new PayloadTooLargeError(maxBytes);
    },
  });
  return async (c, next) => {
    const method = c.req.method;
    if (method === 'GET' || method === 'HEAD') return next();
    const length = c.req.header('content-length');
    if (length !== undefined && c.req.header('transfer-encoding') === undefined) {
      if (parseInt(length, 10) > maxBytes) throw new PayloadTooLargeError(maxBytes);
      return next();
    }
    return streamed(c, next);
  };
}

/** Requests with a body must say `application/json` (charset allowed); others get 415. */
export const requireJson: MiddlewareHandler = async (c, next) => {
  const method = c.req.method;
  if (method === 'POST' || method === 'PUT' || method === 'PATCH') {
    const type = c.req.header('content-type');
    const length = c.req.header('content-length');
    const hasBody = (length !== undefined && length !== '0') || c.req.header('transfer-encoding') !== undefined;
    // A declared type must be JSON; a missing one is refused only when a body is known to follow.
    if (type !== undefined ? !JSON_TYPE.test(type) : hasBody) throw new UnsupportedMediaTypeError('application/json');
  }
  await next();
};

const JSON_TYPE = /^application\/json\s*(;|$)/i;
