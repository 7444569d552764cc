/**
 * `npm run bench [-- --quick | --full] [--only=1,3] [--profile]`
 *
 * Runs Spool's benchmarks, prints a table and rewrites docs/benchmarks.md (not with
 * --only). --quick (the default when CI is set) takes a few seconds per figure; --full is
 * the record run. --profile CPU-profiles the server child (figures 3 and 4) and prints
 * where its time went. --server-env=KEY=VALUE (repeatable) adds to the server child's
 * environment, e.g. --server-env=SPOOL_WORKER_CONCURRENCY=16. --probe loads bench/probe.ts
 * into the server child (COMMIT/fsync time on the event loop, event-loop delay).
 */
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { backlog } from './backlog.js';
import { startChildServer, type ChildServer } from './child-server.js';
import { handlerLatency } from './handler-latency.js';
import { lambdaBundles } from './lambda-bundles.js';
import { httpLatency } from './http-latency.js';
import { httpThroughput } from './http-throughput.js';
import { formatProfile, summarizeProfile } from './profile-summary.js';
import { queueEngine } from './queue-engine.js';
import { queuePeers } from './peers/queue-peers.js';
import { streamLatency } from './stream-latency.js';
import { cpuPressureMicros, environment, markdown, textTable, writeMarkdown, type Mode, type Section } from './report.js';
import { mib } from './stats.js';

const RSS_TARGET_BYTES = 250 * 1024 * 1024;
const root = join(dirname(fileURLToPath(import.meta.url)), '..');

interface Flags {
  mode: Mode;
  only: Set<string> | undefined;
  profile: boolean;
  probe: boolean;
  /** Extra environment for the server child (`--server-env=KEY=VALUE`, repeatable). */
  serverEnv: Record<string, string>;
}

function parseFlags(argv: readonly string[]): Flags {
  let mode: Mode = process.env['CI'] ? 'quick' : 'full';
  let only: Set<string> | undefined;
  let profile = false;
  let probe = false;
  const serverEnv: Record<string, string> = {};
  for (const arg of argv) {
    if (arg === '--quick') mode = 'quick';
    else if (arg === '--full') mode = 'full';
    else if (arg === '--profile') profile = true;
    else if (arg === '--probe') probe = true;
    else if (arg.startsWith('--only=')) only = new Set(arg.slice('--only='.length).split(','));
    else if (/^--server-env=[A-Z_][A-Z0-9_]*=/.test(arg)) {
      const [key, ...value] = arg.slice('--server-env='.length).split('=');
      serverEnv[key!] = value.join('=');
    } else throw new Error(`unknown flag ${arg} (--quick, --full, --only=1,2,3,4,5,6,7,8,9, --profile, --probe, --server-env=KEY=VALUE)`);
  }
  return { mode, only, profile, probe, serverEnv };
}

function failed(title: string, id: string, error: unknown): Section {
  const message = error instanceof Error ? error.message : String(error);
  return { title, method: 'The benchmark failed; see the details.', figures: [{ id, name: title, value: 'ERROR', met: false, details: [message.slice(0, 500)] }] };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const flags = parseFlags(args);
  const wanted = (id: string) => flags.only === undefined || flags.only.has(id);
  const env = environment(root);
  const t0 = performance.now();
  const pressure0 = cpuPressureMicros();
  const sections: Section[] = [];
  const notes: string[] = [];
  let errors = 0;
  const attempt = async (title: string, id: string, run: () => Promise<Section>) => {
    process.stderr.write(`[bench] ${title}...\n`);
    try {
      sections.push(await run());
    } catch (error) {
      errors++;
      process.stderr.write(`[bench] ${title} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      sections.push(failed(title, id, error));
    }
  };

  process.stderr.write(`[bench] ${flags.mode} mode; load average ${env.loadAverage}\n`);
  // Idle latency first, while nothing else of ours runs.
  if (wanted('5')) await attempt('5. Submit -> handler start latency (idle)', '5', () => handlerLatency(flags.mode));
  if (wanted('1')) await attempt('1. Queue engine', '1', async () => (await queueEngine(flags.mode)).section);
  if (wanted('2')) await attempt('2. Queue engine with a backlog', '2', () => backlog(flags.mode));
  if (wanted('7')) await attempt('7. Lambda bundles', '7', () => lambdaBundles(root, flags.mode));
  if (wanted('8')) await attempt('8. Queue engines side by side', '8', () => queuePeers(flags.mode));

  if (wanted('3') || wanted('4') || wanted('6') || wanted('9')) {
    const profileDir = flags.profile ? mkdtempSync(join(tmpdir(), 'spool-bench-profile-')) : undefined;
    let server: ChildServer | undefined;
    try {
      server = await startChildServer({ root, env: flags.serverEnv, probe: flags.probe, ...(profileDir === undefined ? {} : { cpuProfileDir: profileDir }) });
      process.stderr.write(`[bench] server child pid ${server.pid} at ${server.url}\n`);
      const child = server;
      // An error against a dead child says why it died.
      const explained = async <T>(run: () => Promise<T>): Promise<T> => {
        try {
          return await run();
        } catch (error) {
          const exit = child.unexpectedExit();
          if (exit === undefined) throw error;
          throw new Error(`${error instanceof Error ? error.message : String(error)}; ${exit}`);
        }
      };
      let ids: string[] = [];
      child.markPhase('3');
      if (wanted('3')) {
        await attempt('3. End to end over HTTP', '3', () =>
          explained(async () => {
            const outcome = await httpThroughput(child, flags.mode);
            ids = outcome.jobIds;
            return outcome.section;
          }),
        );
      }
      if (wanted('4') || wanted('6')) await attempt('4. Latency at fixed request rates', '4', () => explained(() => httpLatency(child, flags.mode, ids)));
      child.markPhase('9');
      if (wanted('9')) await attempt('9. Task change -> stream client', '9', () => explained(() => streamLatency(child, flags.mode)));
      const hwm = child.highWaterMark();
      const sampled = child.peakSampledRss();
      const peak = Math.max(hwm, sampled);
      sections.push({
        title: '6. Peak memory of the server process',
        method: [
          'The server child\'s resident set: `VmRSS` from `/proc/<pid>/status` sampled every 100 ms from start-up',
          'through figures 3, 4 and 9, and `VmHWM` (the kernel\'s high-water mark) read at the end, before the child is',
          'stopped. The figure is the larger of the two.',
        ].join('\n'),
        figures: [
          {
            id: '6',
            name: 'Peak RSS of the server child (during 3, 4 and 9)',
            value: mib(peak),
            target: `<= ${mib(RSS_TARGET_BYTES)}`,
            met: peak > 0 && peak <= RSS_TARGET_BYTES && child.unexpectedExit() === undefined,
            details: [
              `VmHWM ${mib(hwm)}${hwm === 0 ? ' (not readable: the child had exited)' : ''}, highest sampled VmRSS ${mib(sampled)}; ` +
                `server log lines at warn or above: ${child.logLines()}`,
              `highest sampled VmRSS by phase: ${child
                .phasePeaks()
                .map(([phase, bytes]) => `${phase} ${mib(bytes)}`)
                .join(', ')}`,
              ...(child.unexpectedExit() === undefined ? [] : [child.unexpectedExit()!]),
            ],
          },
        ],
      });
    } catch (error) {
      errors++;
      process.stderr.write(`[bench] server child failed: ${error instanceof Error ? error.message : String(error)}\n`);
      sections.push(failed('3-6. HTTP benchmarks', '3', error));
    } finally {
      if (server !== undefined) {
        const outcome = await server.stop();
        process.stderr.write(`[bench] server child ${server.pid} stopped (code ${outcome.exitCode}, signal ${outcome.signal}${outcome.killed ? ', SIGKILL after timeout' : ''})\n`);
        if (outcome.killed) notes.push('The server child did not stop within 15 s of SIGTERM and was killed.');
      }
    }
    if (profileDir !== undefined) {
      const files = readdirSync(profileDir).filter((f) => f.endsWith('.cpuprofile'));
      for (const file of files) {
        process.stdout.write(`\nCPU profile of the server child (${join(profileDir, file)}):\n${formatProfile(summarizeProfile(join(profileDir, file)))}\n`);
      }
      if (files.length === 0) process.stdout.write(`\nno CPU profile was written to ${profileDir}\n`);
    }
  }

  sections.sort((a, b) => a.title.localeCompare(b.title, 'en', { numeric: true }));
  const elapsedSeconds = (performance.now() - t0) / 1000;
  const loadAtEnd = environment(root).loadAverage;
  const pressure1 = cpuPressureMicros();
  // Share of the run during which some runnable task (ours or anyone's) waited for a CPU.
  const stalled =
    pressure0 === undefined || pressure1 === undefined ? 'n/a' : `${(((pressure1 - pressure0) / 1000 / (elapsedSeconds * 1000)) * 100).toFixed(0)}%`;
  process.stdout.write(
    `\n${textTable(sections)}\n\n${flags.mode} mode, ${elapsedSeconds.toFixed(0)} s; load average at start ${env.loadAverage}, at end ${loadAtEnd}; CPU pressure (some) ${stalled} of the run\n`,
  );

  if (flags.only !== undefined) {
    process.stdout.write('(--only: docs/benchmarks.md not rewritten)\n');
  } else {
    notes.push(`Load average (1, 5, 15 min) at the start ${env.loadAverage}, at the end ${loadAtEnd}, on ${env.cores} cores.`);
    notes.push(
      `CPU pressure: during ${stalled} of the run some runnable task waited for a CPU (\`/proc/pressure/cpu\`, "some"; the` +
        ' benchmark itself has 2-3 busy threads on 2 cores, so a value well above ~50% means other load shared the machine).',
    );
    if (flags.mode === 'quick') notes.push('Quick mode: short runs, indicative only. The record run is `npm run bench -- --full`.');
    if (flags.profile) notes.push('Run with `--profile`: the server child was CPU-profiled, which slows it down somewhat.');
    if (flags.probe) notes.push('Run with `--probe`: the server child also loaded `bench/probe.ts` (commit timings, event-loop delay).');
    const extra = Object.entries(flags.serverEnv);
    if (extra.length > 0) notes.push(`Server child environment overrides: ${extra.map(([k, v]) => `\`${k}=${v}\``).join(', ')}.`);
    const command = `npm run bench${args.length > 0 ? ` -- ${args.join(' ')}` : ''}${process.env['CI'] ? ' (with CI set)' : ''}`;
    const text = markdown({
      env,
      mode: flags.mode,
      commands: [
        `# this run`,
        command,
        '# record run (several minutes) / quick check (default when CI is set)',
        'npm run bench -- --full',
        'npm run bench -- --quick',
        '# one figure at a time (does not rewrite this file); CPU profile of the server child',
        'npm run bench -- --quick --only=3,4 --profile',
        '# CPU profile of the in-process figures',
        'node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/run.ts --quick --only=1',
        'npx tsx bench/profile-summary.ts /tmp/prof/<file>.cpuprofile',
      ],
      sections,
      notes,
      elapsedSeconds,
    });
    writeMarkdown(join(root, 'docs', 'benchmarks.md'), text);
    process.stdout.write('docs/benchmarks.md rewritten\n');
  }
  process.exitCode = errors > 0 ? 1 : 0;
}

main().then(
  // Nothing of ours is left running (the server child was stopped); do not wait for stray handles.
  () => process.exit(),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
