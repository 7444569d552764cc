import { describe, expect, it } from 'vitest';
import { DsqlTokenCache, regionFromDsqlEndpoint, type DsqlTokenSigner } from '../../src/adapters/sql/dsql-auth.js';

/** A signer that hands out numbered tokens and records which kind was asked for. */
function fakeSigner() {
  const calls: string[] = [];
  let pending: Array<() => void> = [];
  let gate = false;
  let fail = false;
  const sign = async (kind: string) => {
    calls.push(kind);
    if (gate) await new Promise<void>((resolve) => pending.push(resolve));
    if (fail) throw new Error('no credentials');
    return `${kind}-token-${calls.length}`;
  };
  const signer: DsqlTokenSigner = {
    getDbConnectAuthToken: () => sign('connect'),
    getDbConnectAdminAuthToken: () => sign('admin'),
  };
  return {
    signer,
    calls,
    hold: () => (gate = true),
    release: () => {
      gate = false;
      for (const resolve of pending) resolve();
      pending = [];
    },
    failNext: (value: boolean) => (fail = value),
  };
}

function fakeClock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe('DsqlTokenCache', () => {
  it('signs an admin token for admin and a connect token for any other role', async () => {
    const admin = fakeSigner();
    await new DsqlTokenCache({ signer: admin.signer, user: 'admin' }).password();
    const app = fakeSigner();
    await new DsqlTokenCache({ signer: app.signer, user: 'spool_app' }).password();
    expect(admin.calls).toEqual(['admin']);
    expect(app.calls).toEqual(['connect']);
  });

  it('reuses the token until the refresh margin before expiry, then signs a fresh one', async () => {
    const { signer, calls } = fakeSigner();
    const clock = fakeClock();
    // 900 s tokens (the SDK default), refreshed 300 s before expiry: reused for 600 s.
    const cache = new DsqlTokenCache({ signer, user: 'admin', clock, tokenTtlSeconds: 900, refreshMarginSeconds: 300 });
    expect(await cache.password()).toBe('admin-token-1');
    clock.advance(599_999);
    expect(await cache.password()).toBe('admin-token-1');
    clock.advance(1);
    expect(await cache.password()).toBe('admin-token-2');
    clock.advance(300_000);
    expect(await cache.password()).toBe('admin-token-2');
    clock.advance(300_000);
    expect(await cache.password()).toBe('admin-token-3');
    expect(calls).toHaveLength(3);
  });

  it('defaults to 15-minute tokens refreshed after 10 minutes', async () => {
    const { signer, calls } = fakeSigner();
    const clock = fakeClock();
    const cache = new DsqlTokenCache({ signer, user: 'admin', clock });
    await cache.password();
    clock.advance(10 * 60_000 - 1);
    await cache.password();
    expect(calls).toHaveLength(1);
    clock.advance(1);
    await cache.password();
    expect(calls).toHaveLength(2);
  });

  it('keeps the margin below half the lifetime for short tokens', async () => {
    const { signer, calls } = fakeSigner();
    const clock = fakeClock();
    const cache = new DsqlTokenCache({ signer, user: 'admin', clock, tokenTtlSeconds: 60 });
    await cache.password();
    clock.advance(29_999);
    await cache.password();
    expect(calls).toHaveLength(1);
    clock.advance(1);
    await cache.password();
    expect(calls).toHaveLength(2);
  });

  it('shares one signing between connections opening at the same time', async () => {
    const fake = fakeSigner();
    const cache = new DsqlTokenCache({ signer: fake.signer, user: 'admin', clock: fakeClock() });
    fake.hold();
    const passwords = Array.from({ length: 5 }, () => cache.password());
    fake.release();
    expect(new Set(await Promise.all(passwords))).toEqual(new Set(['admin-token-1']));
    expect(fake.calls).toHaveLength(1);
  });

  it('does not cache a failure: the next connection tries again', async () => {
    const fake = fakeSigner();
    const cache = new DsqlTokenCache({ signer: fake.signer, user: 'admin', clock: fakeClock() });
    fake.failNext(true);
    await expect(cache.password()).rejects.toThrow('no credentials');
    fake.failNext(false);
    expect(await cache.password()).toBe('admin-token-2');
  });

  it('times validity from when signing started', async () => {
    const fake = fakeSigner();
    const clock = fakeClock();
    const cache = new DsqlTokenCache({ signer: fake.signer, user: 'admin', clock, tokenTtlSeconds: 900, refreshMarginSeconds: 300 });
    fake.hold();
    const first = cache.password();
    clock.advance(5_000); // a slow signer
    fake.release();
    await first;
    clock.advance(595_000); // 600 s after signing started
    await cache.password();
    expect(fake.calls).toHaveLength(2);
  });
});

describe('regionFromDsqlEndpoint', () => {
  it('reads the region from a cluster endpoint', () => {
    expect(regionFromDsqlEndpoint('abcdefghijklmnopqrstuvwxyz.dsql.us-east-1.on.aws')).toBe('us-east-1');
    expect(regionFromDsqlEndpoint('abc.dsql-fips.us-gov-west-1.on.aws')).toBe('us-gov-west-1');
    expect(regionFromDsqlEndpoint('db.example.com')).toBeUndefined();
  });
});
