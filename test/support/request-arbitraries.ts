import fc from 'fast-check';

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
