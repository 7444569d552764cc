import { sql, type RawBuilder } from 'kysely';
import * as z from 'zod';
import { ValidationError } from '../../errors.js';

/**
 * Keyset pagination over `(created_at, id)`, the order every SQL listing uses: timestamps
 * alone can tie (same millisecond, or two regions), the id breaks ties, so the order is
 * total and a page boundary never skips or repeats a row, whatever is inserted meanwhile.
 * The cursor is opaque to clients: base64url of `[created_at, id]` of the last row served.
 */
export interface PageKey {
  readonly createdAt: string;
  readonly id: string;
}

/** `limit` and `cursor` of every listing (`limit` 1..100, default 50). */
export const PageQuery = {
  limit: z.coerce.number().int().min(1).max(100).default(50).describe('Page size, 1..100'),
  cursor: z.string().min(1).max(512).optional().describe('The `cursor` of the previous page, as returned'),
};

const CursorPayload = z.tuple([z.iso.datetime(), z.uuid()]);

export function encodeCursor(key: PageKey): string {
  return Buffer.from(JSON.stringify([key.createdAt, key.id])).toString('base64url');
}

/** The key a cursor stands for; ValidationError (400) for anything this API did not hand out. */
export function decodeCursor(cursor: string): PageKey {
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    payload = undefined;
  }
  const parsed = CursorPayload.safeParse(payload);
  if (!parsed.success) throw new ValidationError('invalid cursor: pass the cursor of a previous page unchanged');
  return { createdAt: parsed.data[0], id: parsed.data[1] };
}

/**
 * Rows strictly after `key` in `(created_at, id)` order, ascending or descending. Written
 * out as OR/AND (not a row comparison) so it reads the same on SQLite, PostgreSQL and DSQL.
 */
export function afterKey(key: PageKey, order: 'asc' | 'desc'): RawBuilder<boolean> {
  return order === 'desc'
    ? sql<boolean>`(created_at < ${key.createdAt} OR (created_at = ${key.createdAt} AND id < ${key.id}))`
    : sql<boolean>`(created_at > ${key.createdAt} OR (created_at = ${key.createdAt} AND id > ${key.id}))`;
}

/**
 * Cuts the `limit + 1` rows a query fetched down to a page, with a cursor only when more
 * rows follow (the extra row proves it), so the last page has none.
 */
export function toPage<R extends { created_at: string; id: string }, V>(rows: readonly R[], limit: number, view: (row: R) => V): { items: V[]; cursor?: string } {
  const pageRows = rows.slice(0, limit);
  const last = pageRows.at(-1);
  const items = pageRows.map(view);
  return rows.length > limit && last !== undefined ? { items, cursor: encodeCursor({ createdAt: last.created_at, id: last.id }) } : { items };
}
