import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConditionFailedError, ValidationError } from '../../src/errors.js';
import type { ObjectStore } from '../../src/ports/object-store.js';

export interface ObjectStoreBackend {
  readonly name: string;
  create(): Promise<{ store: ObjectStore; dispose(): Promise<void> }>;
}

/** The S3 semantics Spool relies on; every ObjectStore adapter must pass it. */
export function describeObjectStoreContract(backend: ObjectStoreBackend): void {
  describe(`ObjectStore contract: ${backend.name}`, () => {
    let store: ObjectStore;
    let dispose: () => Promise<void>;
    beforeEach(async () => {
      ({ store, dispose } = await backend.create());
    });
    afterEach(async () => dispose());

    it('stores and returns body, size and content type', async () => {
      await store.put('results/a.json', '{"ok":true}', { contentType: 'application/json' });
      const object = await store.get('results/a.json');
      expect(Buffer.from(object!.body).toString()).toBe('{"ok":true}');
      expect(object).toMatchObject({ key: 'results/a.json', size: 11, contentType: 'application/json' });
      expect(await store.head('results/a.json')).toMatchObject({ size: 11, contentType: 'application/json' });
    });

    it('keeps binary bodies byte for byte', async () => {
      const bytes = new Uint8Array([0, 10, 255, 13, 10, 0]);
      await store.put('bin/x', bytes);
      expect(Buffer.from((await store.get('bin/x'))!.body)).toEqual(Buffer.from(bytes));
    });

    it('returns nothing for a missing key and deletes idempotently', async () => {
      expect(await store.get('missing/key')).toBeUndefined();
      expect(await store.head('missing/key')).toBeUndefined();
      await store.put('d/1', 'x');
      await store.delete('d/1');
      await store.delete('d/1');
      expect(await store.get('d/1')).toBeUndefined();
    });

    it('refuses to overwrite with ifNotExists and keeps the first body', async () => {
      await store.put('once/1', 'first', { ifNotExists: true });
      await expect(store.put('once/1', 'second', { ifNotExists: true })).rejects.toBeInstanceOf(ConditionFailedError);
      expect(Buffer.from((await store.get('once/1'))!.body).toString()).toBe('first');
    });

    it('overwrites without a condition', async () => {
      await store.put('over/1', 'first');
      await store.put('over/1', 'second');
      expect(Buffer.from((await store.get('over/1'))!.body).toString()).toBe('second');
    });

    it('lists keys by prefix in order, page by page', async () => {
      for (const key of ['p/b', 'p/a', 'p/c', 'p/sub/d', 'q/a']) await store.put(key, key);
      const first = await store.list('p/', { limit: 2 });
      expect(first.items.map((o) => o.key)).toEqual(['p/a', 'p/b']);
      const rest = await store.list('p/', { limit: 10, cursor: first.cursor! });
      expect(rest.items.map((o) => o.key)).toEqual(['p/c', 'p/sub/d']);
      expect(rest.cursor).toBeUndefined();
    });

    it.each(['../escape', 'a/../b', '/abs', 'a//b', 'nul\u0000', 'a/./b', ''])('rejects the unsafe key %j', async (key) => {
      await expect(store.put(key, 'x')).rejects.toBeInstanceOf(ValidationError);
      await expect(store.get(key)).rejects.toBeInstanceOf(ValidationError);
    });
  });
}
