import type { BadInputOptions } from './bad-input.js';
import type { CrashLoopOptions } from './crash-loop.js';
import type { PoisonRedriveOptions } from './poison-redrive.js';
import type { SoakOptions } from './soak.js';

export type Mode = 'quick' | 'full';

/** Every scenario's bounds for one mode: each is bounded in count and in time. */
export interface ModeSettings {
  readonly crashLoop: Omit<CrashLoopOptions, 'seed'>;
  readonly poisonRedrive: Omit<PoisonRedriveOptions, 'seed'>;
  readonly soak: Omit<SoakOptions, 'seed'>;
  readonly badInput: Omit<BadInputOptions, 'seed'>;
}

export const MODES: Readonly<Record<Mode, ModeSettings>> = {
  quick: {
    crashLoop: { kills: 3, clients: 12, maxRequests: 8_000, killAfterMs: [400, 1_800], loadAfterLastRestartMs: 1_000, settleTimeoutMs: 45_000 },
    poisonRedrive: { jobs: 400, poisonShare: 0.1, clients: 8, settleTimeoutMs: 30_000 },
    soak: { rate: 300, durationMs: 20_000, windows: 10, warmupMs: 2_000, drainTimeoutMs: 20_000 },
    badInput: { perEndpoint: 1_000, concurrency: 8, timeLimitMs: 60_000 },
  },
  full: {
    crashLoop: { kills: 25, clients: 16, maxRequests: 100_000, killAfterMs: [300, 3_000], loadAfterLastRestartMs: 3_000, settleTimeoutMs: 120_000 },
    poisonRedrive: { jobs: 2_000, poisonShare: 0.1, clients: 16, settleTimeoutMs: 120_000 },
    soak: { rate: 300, durationMs: 600_000, windows: 10, warmupMs: 30_000, drainTimeoutMs: 120_000 },
    badInput: { perEndpoint: 10_000, concurrency: 8, timeLimitMs: 600_000 },
  },
};
