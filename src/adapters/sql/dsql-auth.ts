import { DsqlSigner } from '@aws-sdk/dsql-signer';
import { systemClock, type Clock } from '../../ports/clock.js';

/**
 * IAM authentication for Aurora DSQL. DSQL has no passwords: a client connects with a
 * SigV4-presigned token as the password. The token is checked when a connection is
 * opened (an open connection outlives it), so the pool asks {@link DsqlTokenCache.password}
 * for a token on every new connection, and the cache signs a fresh one only when the
 * current one is close to expiry.
 *
 * Role: the `admin` role needs `dsql:DbConnectAdmin` and an admin token
 * (`getDbConnectAdminAuthToken`); any other (application) role needs `dsql:DbConnect`
 * and `getDbConnectAuthToken`.
 */
export interface DsqlTokenSigner {
  getDbConnectAuthToken(): Promise<string>;
  getDbConnectAdminAuthToken(): Promise<string>;
}

export interface DsqlTokenCacheOptions {
  readonly signer: DsqlTokenSigner;
  /** The database role; `admin` selects the admin token. */
  readonly user: string;
  /** Token lifetime the signer was configured with (`@aws-sdk/dsql-signer` default: 900 s). */
  readonly tokenTtlSeconds?: number;
  /**
   * Sign a new token this long before the current one expires (default 300 s: covers
   * clock skew between this host and AWS, which SigV4 tolerates up to 5 minutes).
   */
  readonly refreshMarginSeconds?: number;
  readonly clock?: Clock;
}

export const DSQL_ADMIN_USER = 'admin';
export const DSQL_DEFAULT_TOKEN_TTL_SECONDS = 900;

/** Caches one token per role and refreshes it before expiry; concurrent callers share one signing. */
export class DsqlTokenCache {
  private current: { token: string; refreshAt: number } | undefined;
  private signing: Promise<string> | undefined;
  private readonly ttlMs: number;
  private readonly marginMs: number;
  private readonly clock: Clock;

  constructor(private readonly options: DsqlTokenCacheOptions) {
    this.ttlMs = (options.tokenTtlSeconds ?? DSQL_DEFAULT_TOKEN_TTL_SECONDS) * 1000;
    this.marginMs = Math.min((options.refreshMarginSeconds ?? 300) * 1000, this.ttlMs / 2);
    this.clock = options.clock ?? systemClock;
  }

  /** A token valid for at least the refresh margin; signs a new one when needed. Never caches a failure. */
  password = (): Promise<string> => {
    if (this.current !== undefined && this.clock.now() < this.current.refreshAt) return Promise.resolve(this.current.token);
    this.signing ??= this.sign().finally(() => {
      this.signing = undefined;
    });
    return this.signing;
  };

  private async sign(): Promise<string> {
    // Timed from before the request: the token's validity starts at signing time.
    const signedAt = this.clock.now();
    const { signer, user } = this.options;
    const token = user === DSQL_ADMIN_USER ? await signer.getDbConnectAdminAuthToken() : await signer.getDbConnectAuthToken();
    if (token.trim() === '') throw new Error('DSQL signer returned an empty token');
    this.current = { token, refreshAt: signedAt + this.ttlMs - this.marginMs };
    return token;
  }
}

/** `us-east-1` from `abcdefghijklmnopqrstuvwxyz.dsql.us-east-1.on.aws`, or undefined. */
export function regionFromDsqlEndpoint(endpoint: string): string | undefined {
  return /\.dsql[^.]*\.([a-z0-9-]+)\.on\.aws$/.exec(endpoint)?.[1];
}

/** A token cache backed by the AWS SDK signer (default credential chain). */
export function awsDsqlTokenCache(options: { endpoint: string; region: string; user: string; tokenTtlSeconds?: number }): DsqlTokenCache {
  const tokenTtlSeconds = options.tokenTtlSeconds ?? DSQL_DEFAULT_TOKEN_TTL_SECONDS;
  const signer = new DsqlSigner({ hostname: options.endpoint, region: options.region, expiresIn: tokenTtlSeconds });
  return new DsqlTokenCache({ signer, user: options.user, tokenTtlSeconds });
}
