/**
 * Table port: the subset of DynamoDB the application relies on, in single-table form.
 * Every item has a partition key `pk` and a sort key `sk`; items may also carry
 * `gsi1pk`/`gsi1sk` to appear in the secondary index `gsi1`, and `expiresAt`
 * (epoch seconds) to be removed by TTL.
 */
export interface Table {
  readonly name: string;
  get(key: ItemKey): Promise<Item | undefined>;
  /** Writes the whole item; with conditions, throws ConditionFailedError when they do not hold. */
  put(item: Item, options?: WriteOptions): Promise<void>;
  /**
   * Sets (or, with `undefined`, removes) attributes of an existing item and returns the
   * new item. Throws ConditionFailedError if the item does not exist or a condition fails.
   */
  update(key: ItemKey, changes: Readonly<Record<string, AttributeValue | undefined>>, options?: WriteOptions): Promise<Item>;
  /** Deletes; deleting a missing item is not an error unless a condition says so. */
  delete(key: ItemKey, options?: WriteOptions): Promise<void>;
  /** Items of one partition (of the table or of `gsi1`), sorted by sort key. */
  query(query: TableQuery): Promise<Page<Item>>;
}

export type AttributeValue = string | number | boolean | null | readonly AttributeValue[] | { readonly [k: string]: AttributeValue };

export interface ItemKey {
  readonly pk: string;
  readonly sk: string;
}

export interface Item extends ItemKey {
  readonly [attribute: string]: AttributeValue | undefined;
}

/** All conditions must hold (AND). */
export interface WriteOptions {
  readonly conditions?: readonly Condition[];
}

export type Condition =
  | { readonly kind: 'exists' }
  | { readonly kind: 'notExists' }
  | { readonly kind: 'equals'; readonly attribute: string; readonly value: AttributeValue }
  | { readonly kind: 'in'; readonly attribute: string; readonly values: readonly AttributeValue[] };

export interface TableQuery {
  /** Omit for the table's primary key, `gsi1` for the secondary index. */
  readonly index?: 'gsi1';
  readonly partition: string;
  readonly sortKeyPrefix?: string;
  /** Newest first when sort keys are time-ordered. */
  readonly descending?: boolean;
  /** 1..1000, default 100. */
  readonly limit?: number;
  /** Opaque cursor from a previous page. */
  readonly cursor?: string;
}

export interface Page<T> {
  readonly items: T[];
  /** Present when there may be more. */
  readonly cursor?: string;
}

/** Attribute names a condition or a query may name: keeps expression building safe. */
export const ATTRIBUTE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
