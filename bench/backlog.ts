import { freshRun, HEADLINE, workloadSize } from './queue-engine.js';
import { openTempQueue, preload, runWorkload } from './queue-workload.js';
import type { Figure, Mode, Section } from './report.js';
import { fmt, mib, rate } from './stats.js';

const RATIO_TARGET = 0.8;

/**
 * Figure 2: the figure-1 workload on a queue that already holds a backlog, compared with
 * the same workload on empty queues, in alternating short slices so both see the same
 * background load.
 */
export async function backlog(mode: Mode): Promise<Section> {
  const size = workloadSize(mode);
  const levels = mode === 'quick' ? [100_000] : [100_000, 1_000_000];
  const slices = mode === 'quick' ? 3 : 5;
  const perSlice = Math.floor(size.messages / slices);
  const sliceLimitMs = Math.ceil(size.timeLimitMs / slices);
  const figures: Figure[] = [];
  for (const [index, level] of levels.entries()) {
    const temp = openTempQueue();
    try {
      const t0 = performance.now();
      const loaded = await preload(temp.queue, level, 300_000);
      const preloadMs = performance.now() - t0;
      const bytesLoaded = temp.fileBytes();
      const empty = { deleted: 0, ms: 0 };
      const full = { deleted: 0, ms: 0, commits: 0 };
      const perSliceRatios: string[] = [];
      for (let s = 0; s < slices; s++) {
        const e = await freshRun({ ...HEADLINE, messages: perSlice, timeLimitMs: sliceLimitMs });
        const b = await runWorkload(temp.queue, temp.engine, { ...HEADLINE, messages: perSlice, timeLimitMs: sliceLimitMs });
        empty.deleted += e.deleted;
        empty.ms += e.elapsedMs;
        full.deleted += b.deleted;
        full.ms += b.elapsedMs;
        full.commits += b.commits;
        perSliceRatios.push(`${((rate(b.deleted, b.elapsedMs) / Math.max(1, rate(e.deleted, e.elapsedMs))) * 100).toFixed(0)}%`);
      }
      // Consumers only, on what is left of the backlog (never more than is there).
      const drain = await runWorkload(temp.queue, temp.engine, {
        producers: 0,
        consumers: HEADLINE.consumers,
        messages: Math.min(perSlice, Math.floor(level * 0.9)),
        timeLimitMs: sliceLimitMs,
      });
      const emptyRate = rate(empty.deleted, empty.ms);
      const backlogRate = rate(full.deleted, full.ms);
      const ratio = backlogRate / Math.max(1, emptyRate);
      figures.push({
        id: `2${String.fromCharCode(97 + index)}`,
        name: `Backlog of ${fmt(level)}: throughput vs empty queue`,
        value: `${(ratio * 100).toFixed(0)}% (${fmt(backlogRate)} msg/s)`,
        target: `>= ${RATIO_TARGET * 100}%`,
        met: ratio >= RATIO_TARGET,
        details: [
          `empty queue ${fmt(emptyRate)} msg/s, with ${fmt(loaded)} waiting ${fmt(backlogRate)} msg/s (${fmt(rate(full.commits, full.ms))} commits/s); per slice ${perSliceRatios.join(', ')}`,
          `receive+delete only (no producers) on the backlog: ${fmt(rate(drain.deleted, drain.elapsedMs))} msg/s`,
          `preload ${fmt(preloadMs / 1000, 1)} s; database+WAL ${mib(bytesLoaded)} after preload, ${mib(temp.fileBytes())} at the end`,
        ],
      });
    } finally {
      temp.dispose();
    }
  }
  return {
    title: '2. Queue engine with a backlog',
    method: [
      'A queue is preloaded with the backlog (500 concurrent `send` calls of 10 per round, which group commit turns',
      'into 5,000-row transactions). Then, in alternating slices, the figure-1 workload runs on a fresh empty queue',
      'and on the backlogged one, where the consumers take the oldest messages while the producers keep adding, so',
      `the backlog stays about the same size. ${slices} slices of ${fmt(perSlice)} messages each (time bound ${sliceLimitMs / 1000} s a slice);`,
      'the ratio is the backlogged throughput over the empty-queue throughput, each summed over its slices, so',
      'both saw the same background load. Backlogs: ' +
        `${levels.map((l) => fmt(l)).join(', ')}${mode === 'quick' ? ' (1,000,000 in `--full` only)' : ''}. The details add a receive+delete-only`,
      'drain rate on the backlog and the database + WAL file size.',
    ].join('\n'),
    figures,
  };
}
