import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  NotFound,
  PutObjectCommand,
  S3ServiceException,
  type S3Client,
} from '@aws-sdk/client-s3';
import { ConditionFailedError } from '../../errors.js';
import { assertValidObjectKey, type ObjectInfo, type ObjectStore, type PutOptions, type StoredObject } from '../../ports/object-store.js';
import { assertIntegerInRange } from '../../ports/queue.js';
import type { Page } from '../../ports/table.js';

/** How to reach one bucket. */
export interface S3ObjectStoreOptions {
  readonly client: S3Client;
  readonly bucket: string;
}

// What S3 itself assumes for an object stored without a content type.
const DEFAULT_CONTENT_TYPE = 'application/octet-stream';

/**
 * The {@link ObjectStore} port on Amazon S3. Keys are checked with assertValidObjectKey
 * before any request, so the AWS and embedded backends accept exactly the same keys.
 */
export class S3ObjectStore implements ObjectStore {
  readonly name: string;
  private readonly client: S3Client;

  constructor(options: S3ObjectStoreOptions) {
    this.client = options.client;
    this.name = options.bucket;
  }

  async put(key: string, body: string | Uint8Array, options: PutOptions = {}): Promise<void> {
    assertValidObjectKey(key);
    try {
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.name,
          Key: key,
          Body: body,
          ContentType: options.contentType ?? DEFAULT_CONTENT_TYPE,
          IfNoneMatch: options.ifNotExists === true ? '*' : undefined,
        }),
      );
    } catch (error) {
      // 412 PreconditionFailed: the key exists. 409 ConditionalRequestConflict: a concurrent
      // conditional write to the key won the race, so for this writer the key exists too.
      if (error instanceof S3ServiceException && (error.name === 'PreconditionFailed' || error.name === 'ConditionalRequestConflict')) {
        throw new ConditionFailedError(`object ${key} already exists`, { cause: error });
      }
      throw error;
    }
  }

  async get(key: string): Promise<StoredObject | undefined> {
    assertValidObjectKey(key);
    try {
      const response = await this.client.send(new GetObjectCommand({ Bucket: this.name, Key: key }));
      const body = response.Body === undefined ? new Uint8Array() : await response.Body.transformToByteArray();
      return {
        key,
        size: body.byteLength,
        contentType: response.ContentType ?? DEFAULT_CONTENT_TYPE,
        lastModified: response.LastModified?.getTime() ?? 0,
        body,
      };
    } catch (error) {
      if (error instanceof NoSuchKey) return undefined;
      throw error;
    }
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    assertValidObjectKey(key);
    return this.info(key);
  }

  async delete(key: string): Promise<void> {
    assertValidObjectKey(key);
    await this.client.send(new DeleteObjectCommand({ Bucket: this.name, Key: key }));
  }

  /**
   * The cursor is the last key of the previous page (S3 `StartAfter`). ListObjectsV2 does
   * not return content types, so each listed key costs a HEAD: fine for the admin listings
   * this serves, not for a hot path.
   */
  async list(prefix: string, options: { limit?: number; cursor?: string } = {}): Promise<Page<ObjectInfo>> {
    const limit = options.limit ?? 1000;
    assertIntegerInRange('limit', limit, 1, 1000);
    const response = await this.client.send(
      new ListObjectsV2Command({ Bucket: this.name, Prefix: prefix, MaxKeys: limit, StartAfter: options.cursor }),
    );
    const keys = (response.Contents ?? []).flatMap((o) => (o.Key === undefined ? [] : [o.Key]));
    // An object deleted between the listing and its HEAD is left out, as in the embedded store.
    const infos = await Promise.all(keys.map((key) => this.info(key)));
    const items = infos.filter((info): info is ObjectInfo => info !== undefined);
    const last = keys[keys.length - 1];
    return response.IsTruncated === true && last !== undefined ? { items, cursor: last } : { items };
  }

  /** HEAD without the key check: listed keys may have been written by other tools (the console's `folder/` markers). */
  private async info(key: string): Promise<ObjectInfo | undefined> {
    try {
      const response = await this.client.send(new HeadObjectCommand({ Bucket: this.name, Key: key }));
      return {
        key,
        size: response.ContentLength ?? 0,
        contentType: response.ContentType ?? DEFAULT_CONTENT_TYPE,
        lastModified: response.LastModified?.getTime() ?? 0,
      };
    } catch (error) {
      // A HEAD response has no body, so S3's answer for a missing key is a bare 404 NotFound.
      if (error instanceof NotFound) return undefined;
      throw error;
    }
  }
}
