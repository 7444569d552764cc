/** Nearest-rank percentile (p in 0..100) of unsorted values; NaN when empty. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1]!;
}

export const median = (values: readonly number[]): number => percentile(values, 50);

/** What the growth rule saw for one metric sampled per window. */
export interface Growth {
  readonly firstThird: number;
  readonly middleThird: number;
  readonly lastThird: number;
  /** Last window over first window. */
  readonly drift: number;
  /** Kendall's tau of the values against time: 1 = always rising, 0 = no trend. */
  readonly trend: number;
  /** True when the metric grows without bound by the rule of {@link unboundedGrowth}. */
  readonly unbounded: boolean;
}

/** Kendall's tau-a of `values` against their index: +1 strictly rising, -1 strictly falling. */
export function kendallTau(values: readonly number[]): number {
  let concordant = 0;
  let discordant = 0;
  for (let i = 0; i < values.length; i++) {
    for (let j = i + 1; j < values.length; j++) {
      if (values[j]! > values[i]!) concordant++;
      else if (values[j]! < values[i]!) discordant++;
    }
  }
  const pairs = (values.length * (values.length - 1)) / 2;
  return pairs === 0 ? 0 : (concordant - discordant) / pairs;
}

/** Minimum Kendall's tau for growth to count as sustained (for 10 windows, a random series exceeds it ~2% of the time). */
export const TREND_THRESHOLD = 0.5;

/**
 * The soak's "grows without bound" rule, for a metric sampled once per window (in time
 * order, at least 3 windows). With T1, T2, T3 the medians of the first, middle and last
 * third of the windows, the metric grows without bound when ALL of:
 * - T3 > `ratio` x T1 (it at least doubled with the default ratio 2);
 * - T1 < T2 < T3 and Kendall's tau of the windows >= 0.5 (the growth is sustained across
 *   the run, not a spike or two, as a noisy neighbour on the machine would cause);
 * - T3 - T1 > `floor` (absolute noise floor: 1 ms -> 3 ms of p99 is not a leak).
 */
export function unboundedGrowth(perWindow: readonly number[], floor: number, ratio = 2): Growth {
  const third = Math.max(1, Math.floor(perWindow.length / 3));
  const t1 = median(perWindow.slice(0, third));
  const t2 = median(perWindow.slice(third, perWindow.length - third));
  const t3 = median(perWindow.slice(perWindow.length - third));
  const first = perWindow[0] ?? Number.NaN;
  const last = perWindow[perWindow.length - 1] ?? Number.NaN;
  const trend = kendallTau(perWindow);
  return {
    firstThird: t1,
    middleThird: t2,
    lastThird: t3,
    drift: last / first,
    trend,
    unbounded: t3 > ratio * t1 && t1 < t2 && t2 < t3 && trend >= TREND_THRESHOLD && t3 - t1 > floor,
  };
}

export const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
export const ms = (value: number): string => `${value.toFixed(1)} ms`;
