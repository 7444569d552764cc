/**
 * fast-check generators of POST requests for the bad-input scenario, in the spirit of
 * test/e2e/fuzz-post-bodies.property.test.ts (shared pieces in test/support/request-arbitraries.ts): mostly near-valid
 * bodies mixing valid and invalid fields, plus arbitrary JSON, truncated JSON, raw text,
 * no body, random content types and a small pool of reused Idempotency-Keys.
 *
 * Callback URLs only ever point at 127.0.0.1 (a closed port): an accepted fuzzed job must
 * not make the server call out to the internet.
 */
import fc from 'fast-check';
import { MAX_DELAY_SECONDS } from '../src/ports/queue.js';
import { idempotencyKeys, orderBody, requests, withExtras, type FuzzRequest } from '../test/support/request-arbitraries.js';

export type { FuzzRequest };


const loopbackCallback = fc.webPath().map((p) => `http://127.0.0.1:9${p.startsWith('/') ? p : `/${p}`}`);

const submitBody = withExtras(
  fc.record(
    {
      task: fc.oneof(
        { weight: 6, arbitrary: fc.constantFrom('process_data', 'echo', 'sleep', 'fail') },
        { weight: 1, arbitrary: fc.constantFrom('', 'nope', 'ECHO', 'echo ', '__proto__', 'constructor', 'x'.repeat(65)) },
        { weight: 1, arbitrary: fc.oneof(fc.string(), fc.integer(), fc.constant(null), fc.boolean()) },
      ),
      data: fc.oneof(
        { weight: 1, arbitrary: fc.constant(undefined) },
        { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
        // Sleeps stay short when valid: the scenario is about the API, not about busy workers.
        { weight: 2, arbitrary: fc.record({ ms: fc.oneof(fc.integer({ min: -10, max: 50 }), fc.integer({ min: 30_001, max: 40_000 }), fc.double(), fc.string({ maxLength: 5 })) }, { requiredKeys: [] }) },
        { weight: 2, arbitrary: withExtras(fc.record({ message: fc.oneof(fc.string({ maxLength: 1100 }), fc.integer(), fc.constant('')) }, { requiredKeys: [] })) },
        { weight: 1, arbitrary: fc.record({ input: fc.oneof(fc.string(), fc.integer()) }) },
      ),
      delaySeconds: fc.oneof(
        { weight: 4, arbitrary: fc.integer({ min: 0, max: MAX_DELAY_SECONDS }) },
        { weight: 1, arbitrary: fc.oneof(fc.integer({ min: -5, max: 2000 }), fc.double(), fc.string({ maxLength: 4 }), fc.constant(null)) },
      ),
      callbackUrl: fc.oneof(
        { weight: 4, arbitrary: loopbackCallback },
        { weight: 1, arbitrary: fc.constantFrom('ftp://127.0.0.1/hook', 'not a url', 'javascript:alert(1)', '', 'http://', `http://127.0.0.1:9/${'a'.repeat(2048)}`) },
        { weight: 1, arbitrary: fc.oneof(fc.string(), fc.integer()) },
      ),
    },
    { requiredKeys: ['data'] },
  ),
);

/** Redrive takes no body; its path names a queue and its query a limit. */
const redrivePath = fc
  .tuple(
    fc.constantFrom('jobs', 'orders', 'callbacks', 'nope', 'JOBS', '..%2Fjobs', 'a'.repeat(41), '%00'),
    fc.oneof(
      { weight: 3, arbitrary: fc.constant('') },
      { weight: 2, arbitrary: fc.integer({ min: -5, max: 20_000 }).map((n) => `?limit=${n}`) },
      { weight: 1, arbitrary: fc.constantFrom('?limit=', '?limit=abc', '?limit=1.5', '?force=true', '?limit=1&limit=2') },
    ),
  )
  .map(([name, query]) => `/admin/queues/${name}/redrive${query}`);
const redriveBody = fc.oneof(fc.constant({}), fc.jsonValue({ maxDepth: 2 }));

/** The POST endpoints, each with its request generator. */
export function endpointGenerators(keyPrefix: string): ReadonlyArray<{ readonly name: string; readonly requests: fc.Arbitrary<FuzzRequest> }> {
  return [
    { name: 'POST /submit', requests: requests(fc.constant('/submit'), submitBody, idempotencyKeys(`${keyPrefix}-submit`)) },
    { name: 'POST /jobs', requests: requests(fc.constant('/jobs'), submitBody, idempotencyKeys(`${keyPrefix}-jobs`)) },
    { name: 'POST /orders', requests: requests(fc.constant('/orders'), orderBody, fc.constant(undefined)) },
    { name: 'POST /admin/queues/{name}/redrive', requests: requests(redrivePath, redriveBody, fc.constant(undefined)) },
  ];
}
