import { ValidationError } from '../../errors.js';

/** Position of the last item of a page: partition key, sort key and (on gsi1) index sort key. */
export interface CursorPosition {
  readonly p: string;
  readonly s: string;
  readonly i?: string;
}

/** Opaque, URL-safe pagination cursor. */
export function encodeCursor(position: CursorPosition): string {
  return Buffer.from(JSON.stringify(position)).toString('base64url');
}

/** Throws ValidationError for a cursor this adapter did not make. */
export function decodeCursor(cursor: string): CursorPosition {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (isPosition(value)) return value;
  } catch {
    // fall through to the uniform error below
  }
  throw new ValidationError('invalid cursor');
}

function isPosition(v: unknown): v is CursorPosition {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  return typeof o['p'] === 'string' && typeof o['s'] === 'string' && (o['i'] === undefined || typeof o['i'] === 'string');
}
