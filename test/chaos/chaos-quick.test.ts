/**
 * The quick form of every chaos scenario (`npm run chaos -- --quick`), run through the
 * scenario functions: crash loop (3 kill -9 under load), poison and redrive, a 20 s soak
 * and 1,000 fuzzed bodies per POST endpoint. Each scenario starts its own servers on
 * 127.0.0.1 in child processes and stops them by PID. About a minute on 2 cores; each
 * test has its own explicit timeout (the scenarios are bounded well inside them).
 *
 * A failure prints the scenario's failed checks, its counts and notes (the seed, the kept
 * data dir). Replay a run with CHAOS_SEED=<seed>.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { badInput } from '../../chaos/bad-input.js';
import { crashLoop } from '../../chaos/crash-loop.js';
import { MODES } from '../../chaos/modes.js';
import { poisonRedrive } from '../../chaos/poison-redrive.js';
import type { ScenarioResult } from '../../chaos/report.js';
import { soak } from '../../chaos/soak.js';
import { killAllSpools, liveSpoolPids } from '../../chaos/spool-process.js';

const SEED = Number(process.env['CHAOS_SEED'] ?? Math.floor(Math.random() * 2 ** 31));
const quick = MODES.quick;

/** Every invariant held; on failure the message carries the failed checks, counts and notes. */
function expectAllChecksHold(result: ScenarioResult): void {
  const failed = result.checks.filter((c) => !c.ok);
  expect(failed, JSON.stringify({ seed: SEED, failed, counts: result.counts, notes: result.notes }, null, 2)).toEqual([]);
  expect(result.ok).toBe(true);
}

describe(`chaos, quick mode (seed ${SEED})`, () => {
  afterAll(() => {
    const left = liveSpoolPids();
    killAllSpools();
    expect(left, 'server children left running').toEqual([]);
  });

  it('crash loop: kill -9 three times under load loses and duplicates nothing', async () => {
    const result = await crashLoop({ ...quick.crashLoop, seed: SEED });

    expectAllChecksHold(result);
    expect(result.counts).toMatchObject({ kills: quick.crashLoop.kills, lost: 0, duplicated: 0, failed: 0 });
    expect(result.counts['accepted']).toBeGreaterThan(100);
    expect(result.counts['completed']! + result.counts['confirmed']!).toBe(result.counts['accepted']);
  }, 120_000);

  it('poison and redrive: each poison job fails 3 times, is dead-lettered with one alert, and runs again on redrive', async () => {
    const result = await poisonRedrive({ ...quick.poisonRedrive, seed: SEED });

    expectAllChecksHold(result);
    const poison = result.counts['poison']!;
    expect(poison).toBe(Math.round(quick.poisonRedrive.jobs * quick.poisonRedrive.poisonShare));
    expect(result.counts).toMatchObject({ failed: poison, deadLetters: poison, alertsBefore: poison, redriven: poison, alertsAfter: 2 * poison, wrong: 0 });
  }, 90_000);

  it('soak: a fixed request rate with no errors and no unbounded growth of p99 or RSS', async () => {
    const result = await soak({ ...quick.soak, seed: SEED });

    expectAllChecksHold(result);
    expect(result.counts['errors']).toBe(0);
    expect(result.counts['requests']).toBe((quick.soak.rate * quick.soak.durationMs) / 1000);
    expect(result.counts['completed']).toBe(result.counts['accepted']);
  }, 90_000);

  it('bad input at volume: never a 5xx, errors always JSON, nothing stored for a rejected request', async () => {
    const result = await badInput({ ...quick.badInput, seed: SEED });

    expectAllChecksHold(result);
    expect(result.counts).toMatchObject({ fivexx: 0, transportErrors: 0, nonJsonErrors: 0, acceptedInvalid: 0, rejectedValid: 0, storedForRejected: 0 });
    expect(result.counts['requests']).toBeGreaterThan(quick.badInput.perEndpoint * 3);
  }, 90_000);
});
