import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { ConfigError } from '../../src/errors.js';
import { VERSION } from '../../src/runtime/version.js';

describe('configuration', () => {
  it('has working defaults: port 3000 on 127.0.0.1, data in ./.spool, embedded backend, recipe queue settings', () => {
    expect(loadConfig({})).toMatchObject({
      PORT: 3000,
      HOST: '127.0.0.1',
      SPOOL_DATA_DIR: './.spool',
      SPOOL_BACKEND: 'embedded',
      SPOOL_JOBS_VISIBILITY_SECONDS: 300,
      SPOOL_JOBS_MAX_RECEIVE_COUNT: 3,
      SPOOL_ORDERS_MAX_RECEIVE_COUNT: 5,
      SPOOL_RETENTION_SECONDS: 1_209_600,
      SPOOL_BODY_LIMIT_BYTES: 262_144,
    });
  });

  it('reports every problem at once', () => {
    const error = (() => {
      try {
        loadConfig({ PORT: 'x', SPOOL_BACKEND: 'aws' });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    expect(message).toContain('PORT');
    expect(message).toContain('SPOOL_JOBS_QUEUE_URL');
    expect(message).toContain('SPOOL_RESULTS_BUCKET');
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig({ PORT: '' }).PORT).toBe(3000);
  });

  it('reports the version of package.json', () => {
    expect(VERSION).toBe((JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version);
  });
});
