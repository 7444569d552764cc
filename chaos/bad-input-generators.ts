/**
 * fast-check generators of POST requests for the bad-input scenario, in the spirit of
 * test/e2e/fuzz-post-bodies.property.test.ts (which exports none): mostly near-valid
 * bodies mixing valid and invalid fields, plus arbitrary JSON, truncated JSON, raw text,
 * no body, random content types and a small pool of reused Idempotency-Keys.
 *
 * Callback URLs only ever point at 127.0.0.1 (a closed port): an accepted fuzzed job must
 * not make the server call out to the internet.
 */
import fc from 'fast-check';
import { bodies, contentTypes, idempotencyKeys, withExtras } from '../test/support/request-arbitraries.js';

/** One generated POST. */
export interface FuzzRequest {
  readonly path: string;
  /** Raw body text; undefined sends no body. */
  readonly body: string | undefined;
  /** undefined sends no Content-Type header. */
  readonly contentType: string | undefined;
  readonly idempotencyKey: string | undefined;
}

/** The delay bound of the queue port (SQS: 15 minutes). */
export const MAX_DELAY_SECONDS = 900;

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

const amounts = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: -100, max: 100_000_000_000 }).map((cents) => cents / 100) },
  { weight: 1, arbitrary: fc.double() },
  { weight: 1, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.constantFrom(0, 1e9, 1e9 + 0.01, 0.001, 1.005, 1e300) },
  { weight: 1, arbitrary: fc.oneof(fc.string({ maxLength: 6 }), fc.constant(null), fc.boolean()) },
);

const currencies = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('EUR', 'USD', 'JPY', 'GBP', 'CHF', 'BHD') },
  { weight: 1, arbitrary: fc.constantFrom('eur', 'Eur', 'EURO', 'EU', 'ABC', 'QQQ', 'EUR ', 'XXX') },
  { weight: 1, arbitrary: fc.stringMatching(/^[A-Z]{3}$/) },
  { weight: 1, arbitrary: fc.oneof(fc.string({ maxLength: 4 }), fc.integer(), fc.constant(null)) },
);

const orderBody = withExtras(
  fc.record({
    amount: fc.oneof({ weight: 8, arbitrary: amounts }, { weight: 1, arbitrary: fc.constant(undefined) }),
    currency: fc.oneof({ weight: 8, arbitrary: currencies }, { weight: 1, arbitrary: fc.constant(undefined) }),
  }),
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

const requests = (path: fc.Arbitrary<string>, nearValid: fc.Arbitrary<unknown>, keys: fc.Arbitrary<string | undefined>): fc.Arbitrary<FuzzRequest> =>
  fc.record({ path, body: bodies(nearValid), contentType: contentTypes, idempotencyKey: keys });

/** The POST endpoints, each with its request generator. */
export function endpointGenerators(keyPrefix: string): ReadonlyArray<{ readonly name: string; readonly requests: fc.Arbitrary<FuzzRequest> }> {
  return [
    { name: 'POST /submit', requests: requests(fc.constant('/submit'), submitBody, idempotencyKeys(`${keyPrefix}-submit`)) },
    { name: 'POST /jobs', requests: requests(fc.constant('/jobs'), submitBody, idempotencyKeys(`${keyPrefix}-jobs`)) },
    { name: 'POST /orders', requests: requests(fc.constant('/orders'), orderBody, fc.constant(undefined)) },
    { name: 'POST /admin/queues/{name}/redrive', requests: requests(redrivePath, redriveBody, fc.constant(undefined)) },
  ];
}
