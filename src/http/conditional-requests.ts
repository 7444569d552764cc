import * as z from 'zod';
import type { VersionPrecondition } from '../domain/shared/version-precondition.js';
import { ValidationError } from '../errors.js';

/**
 * ETags and `If-Match` for records with a `version`. The ETag is the version, quoted
 * and strong (`"3"`): the version changes exactly when the representation does.
 */
export function etagOf(version: number): string {
  return `"${version}"`;
}

/** The `If-Match` request header, for `request.headers` schemas (parsed by {@link parseIfMatch}). */
export const IfMatchHeader = z
  .string()
  .max(1024)
  .describe('Write only if the current ETag is one of these (`"3"`, `"3", "4"`) or the record exists (`*`); else 412');

// One list member of RFC 9110: optional weakness prefix, a quoted opaque tag, then a comma or the end.
const LIST_MEMBER = /[ \t]*(W\/)?"([\x21\x23-\x7e\x80-\xff]*)"[ \t]*(?:,|$)/y;

/**
 * The precondition an `If-Match` value states. `*` holds for any existing record. A list
 * matches when one of its tags equals the current ETag by the strong comparison If-Match
 * requires, so weak tags (`W/"3"`) and tags this API never issued match nothing (412).
 * Anything that is not `*` or an entity-tag list is a 400.
 */
export function parseIfMatch(value: string | undefined): VersionPrecondition | undefined {
  if (value === undefined) return undefined;
  if (value.trim() === '*') return { kind: 'any' };
  if (value.trim() === '') throw invalidIfMatch();
  const versions: number[] = [];
  LIST_MEMBER.lastIndex = 0;
  while (LIST_MEMBER.lastIndex < value.length) {
    const match = LIST_MEMBER.exec(value);
    if (match === null) throw invalidIfMatch();
    const [, weak, opaque] = match;
    if (weak === undefined && opaque !== undefined && /^[1-9]\d{0,14}$/.test(opaque)) versions.push(Number(opaque));
    if (match[0].endsWith(',') && LIST_MEMBER.lastIndex >= value.length) throw invalidIfMatch();
  }
  return { kind: 'versions', versions };
}

function invalidIfMatch(): ValidationError {
  return new ValidationError('invalid If-Match header: expected * or a list of quoted ETags such as "3"', [
    { path: 'if-match', message: 'expected * or a list of quoted ETags', code: 'invalid_format' },
  ]);
}
