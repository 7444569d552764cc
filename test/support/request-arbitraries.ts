import fc from 'fast-check';

/** One generated POST. */
export interface FuzzRequest {
  readonly path: string;
  /** Raw body text; undefined sends no body. */
  readonly body: string | undefined;
  /** undefined sends no Content-Type header. */
  readonly contentType: string | undefined;
  readonly idempotencyKey: string | undefined;
}

/** A character a header value may carry (Latin-1, no CR, LF or NUL). */
const HEADER_CHAR = fc.oneof(
  fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
  fc.integer({ min: 0xa0, max: 0xff }).map((c) => String.fromCharCode(c)),
  fc.constant('\t'),
);

/** Any string a header value may carry. */
export const headerValue = (maxLength: number) => fc.string({ unit: HEADER_CHAR, maxLength });

/** Content types: mostly JSON, then near-JSON and other types, random text, none. */
export const contentTypes: fc.Arbitrary<string | undefined> = fc.oneof(
  { weight: 16, arbitrary: fc.constant('application/json') },
  {
    weight: 4,
    arbitrary: fc.constantFrom(
      'application/json; charset=utf-8',
      'APPLICATION/JSON',
      'application/json;',
      'application/json ; charset=utf-8',
      'application/problem+json',
      'application/jsonx',
      'text/plain',
      'text/plain;charset=UTF-8',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/xml',
      '',
    ),
  },
  { weight: 1, arbitrary: headerValue(40) },
  { weight: 1, arbitrary: fc.constant(undefined) },
);

/** Idempotency keys from a small pool named by `prefix`, so keys are reused with the same body (200) and another one (409). */
export const idempotencyKeys = (prefix: string): fc.Arbitrary<string | undefined> =>
  fc.oneof(
    { weight: 8, arbitrary: fc.constant(undefined) },
    { weight: 2, arbitrary: fc.constantFrom(`${prefix}-1`, `${prefix}-2`, `${prefix}-3`) },
    { weight: 1, arbitrary: headerValue(140) },
  );

const rawText = fc.oneof(fc.string(), fc.string({ unit: 'grapheme', maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 40 }));

/** Unknown fields to mix into a body: mostly none. */
const extraFields = fc.oneof(
  { weight: 4, arbitrary: fc.constant({}) },
  { weight: 1, arbitrary: fc.dictionary(fc.string({ minLength: 1, maxLength: 12 }), fc.jsonValue({ maxDepth: 1 }), { minKeys: 1, maxKeys: 2 }) },
);

/** `known` objects with, sometimes, unknown fields mixed in. */
export const withExtras = <T extends object>(known: fc.Arbitrary<T>) => fc.tuple(known, extraFields).map(([k, extra]) => ({ ...extra, ...k }));

/** Bodies for one endpoint: mostly its near-valid objects, plus any JSON, truncated JSON, raw text and no body. */
export function bodies(nearValid: fc.Arbitrary<unknown>): fc.Arbitrary<string | undefined> {
  const nearValidText = nearValid.map((v) => JSON.stringify(v));
  return fc.oneof(
    { weight: 8, arbitrary: nearValidText },
    { weight: 2, arbitrary: fc.jsonValue().map((v) => JSON.stringify(v)) },
    { weight: 1, arbitrary: fc.tuple(nearValidText, fc.nat()).map(([text, n]) => text.slice(0, n % (text.length + 1))) },
    { weight: 1, arbitrary: rawText },
    { weight: 1, arbitrary: fc.constant(undefined) },
  );
}

/** Requests to `path` with bodies built around `nearValid`, random content types and `keys`. */
export function requests(
  path: fc.Arbitrary<string>,
  nearValid: fc.Arbitrary<unknown>,
  keys: fc.Arbitrary<string | undefined> = fc.constant(undefined),
): fc.Arbitrary<FuzzRequest> {
  return fc.record({ path, body: bodies(nearValid), contentType: contentTypes, idempotencyKey: keys });
}

/** Order amounts: mostly whole cents (some out of range), some doubles, integers, edge values and non-numbers. */
export const amounts = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: -100, max: 100_000_000_000 }).map((cents) => cents / 100) },
  { weight: 1, arbitrary: fc.double() },
  { weight: 1, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.constantFrom(0, 1e9, 1e9 + 0.01, 0.001, 1.005, 1e300) },
  { weight: 1, arbitrary: fc.oneof(fc.string({ maxLength: 6 }), fc.constant(null), fc.boolean()) },
);

/** Currencies: mostly real ISO 4217 codes, then near misses and non-strings. */
export const currencies = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('EUR', 'USD', 'JPY', 'GBP', 'CHF', 'BHD') },
  { weight: 1, arbitrary: fc.constantFrom('eur', 'Eur', 'EURO', 'EU', 'ABC', 'QQQ', 'EUR ', 'XXX') },
  { weight: 1, arbitrary: fc.stringMatching(/^[A-Z]{3}$/) },
  { weight: 1, arbitrary: fc.oneof(fc.string({ maxLength: 4 }), fc.integer(), fc.constant(null)) },
);

/** Near-valid `POST /orders` bodies. */
export const orderBody = withExtras(
  fc.record({
    // Present in most bodies (an undefined value is left out by JSON.stringify).
    amount: fc.oneof({ weight: 8, arbitrary: amounts }, { weight: 1, arbitrary: fc.constant(undefined) }),
    currency: fc.oneof({ weight: 8, arbitrary: currencies }, { weight: 1, arbitrary: fc.constant(undefined) }),
  }),
);
