/**
 * `npm run chaos [-- --quick | --full] [--only=crash-loop,soak] [--seed=N]`
 *
 * The reliability harness: each scenario starts its own Spool server(s) in child processes
 * on 127.0.0.1 and fresh temp data dirs, is bounded in count and in time, and stops every
 * child it started by PID. Prints a summary table and exits 1 when an invariant failed.
 * --quick (the default when CI is set) takes about a minute; --full is the long run
 * (25 kills, a 10-minute soak, 10,000 bodies per endpoint).
 */
import { MODES, type Mode } from './modes.js';
import { newSeed } from './random.js';
import { formatSummary, type ScenarioResult } from './report.js';
import { SCENARIOS } from './scenarios.js';
import { killAllSpools, liveSpoolPids } from './spool-process.js';

interface Flags {
  readonly mode: Mode;
  readonly only: ReadonlySet<string> | undefined;
  readonly seed: number;
}

function parseFlags(argv: readonly string[]): Flags {
  let mode: Mode = process.env['CI'] ? 'quick' : 'full';
  let only: Set<string> | undefined;
  let seed = newSeed();
  const names = SCENARIOS.map((s) => s.name);
  for (const arg of argv) {
    if (arg === '--quick') mode = 'quick';
    else if (arg === '--full') mode = 'full';
    else if (arg.startsWith('--only=')) {
      only = new Set(arg.slice('--only='.length).split(','));
      const unknown = [...only].filter((n) => !names.includes(n));
      if (unknown.length > 0) throw new Error(`unknown scenario ${unknown.join(', ')} (known: ${names.join(', ')})`);
    } else if (/^--seed=\d+$/.test(arg)) seed = Number(arg.slice('--seed='.length));
    else throw new Error(`unknown flag ${arg} (--quick, --full, --only=${names.join(',')}, --seed=N)`);
  }
  return { mode, only, seed };
}

async function main(): Promise<number> {
  const flags = parseFlags(process.argv.slice(2));
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      process.stderr.write(`[chaos] ${signal}: killed ${killAllSpools()} server children\n`);
      process.exit(130);
    });
  }
  const settings = MODES[flags.mode];
  const started = Date.now();
  const results: ScenarioResult[] = [];
  for (const scenario of SCENARIOS) {
    if (flags.only !== undefined && !flags.only.has(scenario.name)) continue;
    process.stderr.write(`[chaos] ${scenario.name} (${flags.mode})...\n`);
    const result = await scenario.run(settings, flags.seed);
    process.stderr.write(`[chaos] ${scenario.name}: ${result.ok ? 'PASS' : 'FAIL'} in ${(result.durationMs / 1000).toFixed(1)} s\n`);
    results.push(result);
  }
  const leftover = liveSpoolPids();
  killAllSpools();
  process.stdout.write(`${formatSummary(results, flags.mode, flags.seed, Date.now() - started)}\n`);
  if (leftover.length > 0) process.stdout.write(`Server children still running at the end (now killed): ${leftover.join(', ')}\n`);
  return results.every((r) => r.ok) && leftover.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    killAllSpools();
    process.stderr.write(`[chaos] ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(2);
  },
);
