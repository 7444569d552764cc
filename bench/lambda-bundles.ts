import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import type { Mode, Section } from './report.js';
import { percentile } from './stats.js';

const ENTRIES = ['api', 'jobs-worker', 'orders-worker', 'callbacks-worker'] as const;
const TARGET_BYTES = 150 * 1024;
// Enough configuration for the entry points to initialise; nothing is contacted at import.
const FAKE_AWS_ENV = {
  SPOOL_BACKEND: 'aws',
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'bench',
  AWS_SECRET_ACCESS_KEY: 'bench',
  LOG_LEVEL: 'silent',
  ...Object.fromEntries(
    ['JOBS', 'ORDERS', 'CALLBACKS'].flatMap((q) => [
      [`SPOOL_${q}_QUEUE_URL`, `https://sqs.us-east-1.amazonaws.com/123456789012/spool-${q.toLowerCase()}`],
      [`SPOOL_${q}_DLQ_URL`, `https://sqs.us-east-1.amazonaws.com/123456789012/spool-${q.toLowerCase()}-dlq`],
    ]),
  ),
  SPOOL_JOBS_TABLE: 'spool-jobs',
  SPOOL_ORDERS_TABLE: 'spool-orders',
  SPOOL_RESULTS_BUCKET: 'spool-results',
  SPOOL_ALERTS_TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:spool-alerts',
};

/**
 * Figure 7: each Lambda bundle, built with the CDK app's esbuild settings (ESM, minified,
 * `@aws-sdk/*` external), its size, and its module initialisation time: a fresh Node
 * process times `await import(bundle)` (the cold-start work of the module, not Lambda's own).
 */
export async function lambdaBundles(root: string, mode: Mode): Promise<Section> {
  const out = join(root, 'node_modules', '.cache', 'spool-bench-bundles');
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  await build({
    entryPoints: ENTRIES.map((e) => join(root, 'src/runtime/lambda', `${e}.ts`)),
    bundle: true,
    minify: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    mainFields: ['module', 'main'],
    external: ['@aws-sdk/*'],
    outdir: out,
    outExtension: { '.js': '.mjs' },
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
    logLevel: 'error',
  });
  const runs = mode === 'full' ? 15 : 5;
  const figures = ENTRIES.map((entry, i) => {
    const file = join(out, `${entry}.mjs`);
    const bytes = statSync(file).size;
    const times: number[] = Array.from({ length: runs }, () =>
      Number(
        execFileSync(process.execPath, ['--input-type=module', '-e', `const t = performance.now(); await import(${JSON.stringify(file)}); process.stdout.write(String(performance.now() - t));`], {
          env: { ...process.env, ...FAKE_AWS_ENV },
          encoding: 'utf8',
        }),
      ),
    ).sort((a, b) => a - b);
    return {
      id: `7${String.fromCharCode(97 + i)}`,
      name: `Lambda bundle ${entry}: size, module init`,
      value: `${(bytes / 1024).toFixed(0)} KiB, init p50 ${percentile(times, 50).toFixed(0)} ms`,
      target: '<= 150 KiB',
      met: bytes <= TARGET_BYTES,
      details: [`${bytes} bytes minified; init over ${runs} fresh processes: min ${times[0]!.toFixed(1)} ms, p50 ${percentile(times, 50).toFixed(1)} ms, max ${times[times.length - 1]!.toFixed(1)} ms (most of it is loading the AWS SDK v3 clients from node_modules)`],
    };
  });
  rmSync(out, { recursive: true, force: true });
  return {
    title: '7. Lambda bundles',
    method: [
      'The four entry points of `src/runtime/lambda/` bundled with esbuild as the CDK app does (ESM, minified,',
      '`@aws-sdk/*` left to the runtime). Size is the minified `.mjs` without its source map. Module initialisation',
      "is `await import()` of the bundle timed inside a fresh Node process with the functions' configuration (AWS",
      'SDK clients are created, nothing is contacted); it excludes Lambda\'s own runtime start.',
    ].join('\n'),
    figures,
  };
}
