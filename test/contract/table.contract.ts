import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConditionFailedError } from '../../src/errors.js';
import type { Item, Table } from '../../src/ports/table.js';

/** `ttlHidesExpired`: expired items vanish from reads at once (DynamoDB only deletes them within ~48 h). */
export type TableCapability = 'ttlHidesExpired';

export interface TableBackend {
  readonly name: string;
  readonly capabilities: ReadonlySet<TableCapability>;
  create(): Promise<{ table: Table; dispose(): Promise<void> }>;
}

/** The DynamoDB semantics Spool relies on; every Table adapter must pass it. */
export function describeTableContract(backend: TableBackend): void {
  const needs = (capability: TableCapability) => (backend.capabilities.has(capability) ? it : it.skip);

  describe(`Table contract: ${backend.name}`, () => {
    let table: Table;
    let dispose: () => Promise<void>;
    beforeEach(async () => {
      ({ table, dispose } = await backend.create());
    });
    afterEach(async () => dispose());

    it('reads back what was put, nested values included, and nothing for a missing key', async () => {
      const item: Item = { pk: 'JOB#1', sk: 'JOB', status: 'queued', attempts: 0, data: { a: [1, 'two', null, true] } };
      await table.put(item);
      expect(await table.get({ pk: 'JOB#1', sk: 'JOB' })).toEqual(item);
      expect(await table.get({ pk: 'JOB#2', sk: 'JOB' })).toBeUndefined();
    });

    it('refuses a second put with a not-exists condition and keeps the first item', async () => {
      await table.put({ pk: 'ORDER#1', sk: 'ORDER', amount: 1 }, { conditions: [{ kind: 'notExists' }] });
      await expect(table.put({ pk: 'ORDER#1', sk: 'ORDER', amount: 2 }, { conditions: [{ kind: 'notExists' }] })).rejects.toBeInstanceOf(
        ConditionFailedError,
      );
      expect(await table.get({ pk: 'ORDER#1', sk: 'ORDER' })).toMatchObject({ amount: 1 });
    });

    it('updates only when the conditions hold, removing attributes set to undefined', async () => {
      await table.put({ pk: 'J', sk: 'J', status: 'queued', error: 'old', version: 1 });
      const updated = await table.update(
        { pk: 'J', sk: 'J' },
        { status: 'processing', error: undefined, version: 2 },
        { conditions: [{ kind: 'in', attribute: 'status', values: ['queued', 'failed'] }] },
      );
      expect(updated).toEqual({ pk: 'J', sk: 'J', status: 'processing', version: 2 });
      await expect(
        table.update({ pk: 'J', sk: 'J' }, { status: 'x' }, { conditions: [{ kind: 'equals', attribute: 'version', value: 1 }] }),
      ).rejects.toBeInstanceOf(ConditionFailedError);
      expect(await table.get({ pk: 'J', sk: 'J' })).toEqual(updated);
    });

    it('refuses to update an item that does not exist', async () => {
      await expect(table.update({ pk: 'nope', sk: 'nope' }, { a: 1 })).rejects.toBeInstanceOf(ConditionFailedError);
      expect(await table.get({ pk: 'nope', sk: 'nope' })).toBeUndefined();
    });

    it('deletes, and honours a delete condition', async () => {
      await table.put({ pk: 'D', sk: 'D', status: 'done' });
      await expect(table.delete({ pk: 'D', sk: 'D' }, { conditions: [{ kind: 'equals', attribute: 'status', value: 'open' }] })).rejects.toBeInstanceOf(
        ConditionFailedError,
      );
      await table.delete({ pk: 'D', sk: 'D' });
      await table.delete({ pk: 'D', sk: 'D' });
      expect(await table.get({ pk: 'D', sk: 'D' })).toBeUndefined();
    });

    it('queries a partition by sort-key prefix, in both directions, page by page', async () => {
      for (const sk of ['A#1', 'A#2', 'A#3', 'A#4', 'A#5', 'B#1']) await table.put({ pk: 'P', sk });
      await table.put({ pk: 'Q', sk: 'A#9' });
      const first = await table.query({ partition: 'P', sortKeyPrefix: 'A#', limit: 2 });
      expect(first.items.map((i) => i.sk)).toEqual(['A#1', 'A#2']);
      const second = await table.query({ partition: 'P', sortKeyPrefix: 'A#', limit: 2, cursor: first.cursor! });
      const third = await table.query({ partition: 'P', sortKeyPrefix: 'A#', limit: 2, cursor: second.cursor! });
      expect([...second.items, ...third.items].map((i) => i.sk)).toEqual(['A#3', 'A#4', 'A#5']);
      expect(third.cursor).toBeUndefined();
      const newest = await table.query({ partition: 'P', descending: true, limit: 3 });
      expect(newest.items.map((i) => i.sk)).toEqual(['B#1', 'A#5', 'A#4']);
    });

    it('queries the gsi1 index newest first with a cursor', async () => {
      for (let i = 1; i <= 5; i++) await table.put({ pk: `JOB#${i}`, sk: 'JOB', gsi1pk: 'STATUS#failed', gsi1sk: `2026-01-0${i}` });
      await table.put({ pk: 'JOB#6', sk: 'JOB', gsi1pk: 'STATUS#completed', gsi1sk: '2026-01-06' });
      const page1 = await table.query({ index: 'gsi1', partition: 'STATUS#failed', descending: true, limit: 3 });
      expect(page1.items.map((i) => i.pk)).toEqual(['JOB#5', 'JOB#4', 'JOB#3']);
      const page2 = await table.query({ index: 'gsi1', partition: 'STATUS#failed', descending: true, limit: 3, cursor: page1.cursor! });
      expect(page2.items.map((i) => i.pk)).toEqual(['JOB#2', 'JOB#1']);
    });

    needs('ttlHidesExpired')('hides items whose expiresAt has passed', async () => {
      await table.put({ pk: 'T', sk: 'old', expiresAt: Math.floor(Date.now() / 1000) - 10 });
      await table.put({ pk: 'T', sk: 'new', expiresAt: Math.floor(Date.now() / 1000) + 3600 });
      expect(await table.get({ pk: 'T', sk: 'old' })).toBeUndefined();
      expect((await table.query({ partition: 'T' })).items.map((i) => i.sk)).toEqual(['new']);
    });
  });
}
