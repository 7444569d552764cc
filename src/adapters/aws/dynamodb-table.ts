import {
  ConditionalCheckFailedException,
  CreateTableCommand,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ConditionFailedError, ValidationError } from '../../errors.js';
import { assertIntegerInRange } from '../../ports/queue.js';
import type { AttributeValue, Item, ItemKey, Page, Table, TableQuery, WriteOptions } from '../../ports/table.js';
import { conditionsHold } from '../../ports/table-conditions.js';
import { ExpressionBuilder } from './dynamodb-expressions.js';

/** How to reach one DynamoDB table laid out as {@link createDynamoTableResource} creates it. */
export interface DynamoTableOptions {
  readonly client: DynamoDBClient;
  /** Logical name (`jobs`, ...). */
  readonly name: string;
  readonly tableName: string;
}

/**
 * The {@link Table} port on DynamoDB. Reads of the table are strongly consistent, as the
 * embedded table's are; `gsi1` reads are eventually consistent, as DynamoDB allows no other.
 * Expired items stay readable until DynamoDB's TTL sweep removes them (within about 48 h).
 */
export class DynamoTable implements Table {
  readonly name: string;
  private readonly tableName: string;
  private readonly documents: DynamoDBDocumentClient;

  constructor(options: DynamoTableOptions) {
    this.name = options.name;
    this.tableName = options.tableName;
    // removeUndefinedValues: the port lets an item carry undefined attributes, meaning "absent".
    this.documents = DynamoDBDocumentClient.from(options.client, { marshallOptions: { removeUndefinedValues: true } });
  }

  async get(key: ItemKey): Promise<Item | undefined> {
    assertKey(key);
    const response = await this.documents.send(new GetCommand({ TableName: this.tableName, Key: keyOf(key), ConsistentRead: true }));
    return response.Item as Item | undefined;
  }

  async put(item: Item, options: WriteOptions = {}): Promise<void> {
    assertKey(item);
    const expression = new ExpressionBuilder();
    const condition = expression.conditions(options.conditions ?? []);
    await this.conditional(item, () =>
      this.documents.send(new PutCommand({ TableName: this.tableName, Item: item, ConditionExpression: condition, ...expression.parameters() })),
    );
  }

  async update(key: ItemKey, changes: Readonly<Record<string, AttributeValue | undefined>>, options: WriteOptions = {}): Promise<Item> {
    assertKey(key);
    if ('pk' in changes || 'sk' in changes) throw new ValidationError('update cannot change pk or sk');
    const expression = new ExpressionBuilder();
    const updateExpression = expression.update(changes);
    if (updateExpression === undefined) return this.unchanged(key, options);
    // attribute_exists(pk): UpdateItem would otherwise create a missing item.
    const condition = expression.conditions([{ kind: 'exists' }, ...(options.conditions ?? [])]);
    const response = await this.conditional(key, () =>
      this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keyOf(key),
          UpdateExpression: updateExpression,
          ConditionExpression: condition,
          ReturnValues: 'ALL_NEW',
          ...expression.parameters(),
        }),
      ),
    );
    return response.Attributes as Item;
  }

  async delete(key: ItemKey, options: WriteOptions = {}): Promise<void> {
    assertKey(key);
    const expression = new ExpressionBuilder();
    const condition = expression.conditions(options.conditions ?? []);
    await this.conditional(key, () =>
      this.documents.send(new DeleteCommand({ TableName: this.tableName, Key: keyOf(key), ConditionExpression: condition, ...expression.parameters() })),
    );
  }

  /**
   * Reads one item past the page so that `cursor` is set only when more items exist:
   * DynamoDB's own LastEvaluatedKey may be set on a page that happens to be the last one.
   */
  async query(query: TableQuery): Promise<Page<Item>> {
    const limit = query.limit ?? 100;
    assertIntegerInRange('limit', limit, 1, 1000);
    const onIndex = query.index === 'gsi1';
    const [partitionKey, sortKey] = onIndex ? ['gsi1pk', 'gsi1sk'] : ['pk', 'sk'];
    let startKey = query.cursor === undefined ? undefined : decodeKeyCursor(query.cursor, onIndex, query.partition);
    const prefix = query.sortKeyPrefix ?? '';
    const items: Item[] = [];
    // A page stops at 1 MB even below Limit: keep reading until limit + 1 items or the end.
    do {
      const response = await this.documents.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: onIndex ? 'gsi1' : undefined,
          KeyConditionExpression: prefix === '' ? '#p = :p' : '#p = :p AND begins_with(#s, :s)',
          ExpressionAttributeNames: prefix === '' ? { '#p': partitionKey } : { '#p': partitionKey, '#s': sortKey },
          ExpressionAttributeValues: prefix === '' ? { ':p': query.partition } : { ':p': query.partition, ':s': prefix },
          ScanIndexForward: query.descending !== true,
          Limit: limit + 1 - items.length,
          ExclusiveStartKey: startKey,
          ConsistentRead: !onIndex,
        }),
      );
      items.push(...((response.Items ?? []) as Item[]));
      startKey = response.LastEvaluatedKey;
    } while (startKey !== undefined && items.length <= limit);
    if (items.length <= limit) return { items };
    const page = items.slice(0, limit);
    return { items: page, cursor: encodeKeyCursor(keyAttributesOf(page[page.length - 1]!, onIndex)) };
  }

  /**
   * An update that changes nothing, which UpdateItem cannot express (moto even fails on it):
   * a strongly consistent read and the same condition check, atomic enough as nothing is written.
   */
  private async unchanged(key: ItemKey, options: WriteOptions): Promise<Item> {
    const current = await this.get(key);
    if (current === undefined || !conditionsHold(current, options.conditions ?? [])) {
      throw new ConditionFailedError(`condition failed on ${this.name} ${key.pk}/${key.sk}`);
    }
    return current;
  }

  /** Runs a conditional write, turning DynamoDB's refusal into the port's ConditionFailedError. */
  private async conditional<T>(key: ItemKey, write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        throw new ConditionFailedError(`condition failed on ${this.name} ${key.pk}/${key.sk}`, { cause: error });
      }
      throw error;
    }
  }
}

/** What DynamoDB needs to resume a query after an item: the table key, plus the index key on gsi1. */
type KeyAttributes = Readonly<Record<string, string>>;

const TABLE_KEY_NAMES: readonly string[] = ['pk', 'sk'];
const INDEX_KEY_NAMES: readonly string[] = ['pk', 'sk', 'gsi1pk', 'gsi1sk'];

function keyAttributesOf(item: Item, onIndex: boolean): KeyAttributes {
  const names = onIndex ? INDEX_KEY_NAMES : TABLE_KEY_NAMES;
  return Object.fromEntries(names.map((name) => [name, String(item[name])]));
}

/** Opaque, URL-safe cursor: the key attributes of the last item of a page. */
function encodeKeyCursor(key: KeyAttributes): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

/**
 * Throws ValidationError for a cursor this adapter did not make for this partition, which
 * DynamoDB would otherwise reject as a bare ValidationException.
 */
function decodeKeyCursor(cursor: string, onIndex: boolean, partition: string): KeyAttributes {
  const names = onIndex ? INDEX_KEY_NAMES : TABLE_KEY_NAMES;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new ValidationError('invalid cursor');
  }
  if (typeof value !== 'object' || value === null) throw new ValidationError('invalid cursor');
  const entries = Object.entries(value);
  const wellFormed = entries.length === names.length && entries.every(([k, v]) => names.includes(k) && typeof v === 'string');
  const key = value as KeyAttributes;
  if (!wellFormed || key[onIndex ? 'gsi1pk' : 'pk'] !== partition) throw new ValidationError('invalid cursor');
  return key;
}

function keyOf(key: ItemKey): ItemKey {
  return { pk: key.pk, sk: key.sk };
}

function assertKey(key: ItemKey): void {
  if (typeof key.pk !== 'string' || key.pk.length === 0 || typeof key.sk !== 'string' || key.sk.length === 0) {
    throw new ValidationError('pk and sk must be non-empty strings');
  }
}

/**
 * Creates a table with Spool's single-table schema (pk/sk, index `gsi1` on gsi1pk/gsi1sk
 * projecting all attributes, TTL on `expiresAt`, on-demand billing) and waits until it is
 * active. For tests and local development against an emulator; deployed tables come from infra/.
 */
export async function createDynamoTableResource(client: DynamoDBClient, tableName: string): Promise<void> {
  const key = (hash: string, range: string) => [
    { AttributeName: hash, KeyType: 'HASH' as const },
    { AttributeName: range, KeyType: 'RANGE' as const },
  ];
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: ['pk', 'sk', 'gsi1pk', 'gsi1sk'].map((name) => ({ AttributeName: name, AttributeType: 'S' as const })),
      KeySchema: key('pk', 'sk'),
      GlobalSecondaryIndexes: [{ IndexName: 'gsi1', KeySchema: key('gsi1pk', 'gsi1sk'), Projection: { ProjectionType: 'ALL' } }],
    }),
  );
  await waitUntilTableExists({ client, maxWaitTime: 120 }, { TableName: tableName });
  await client.send(new UpdateTimeToLiveCommand({ TableName: tableName, TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true } }));
}
