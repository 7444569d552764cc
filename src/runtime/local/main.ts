import { resolve } from 'node:path';
import { loadConfig } from '../../config.js';
import { ConfigError } from '../../errors.js';
import { createPorts } from '../create-ports.js';
import { startLocalServer } from './server.js';

/** `npm start`: the whole system in this process. Exit codes: 0 clean stop, 1 failure, 2 bad configuration. */
async function main(): Promise<void> {
  const config = loadConfig();
  const regions = parseRegions(process.argv.slice(2));
  const server = await startLocalServer(config, (logger) => createPorts(config, logger), regions === undefined ? {} : { regions });
  const { logger, ports } = server.system;
  const where = config.SPOOL_BACKEND === 'embedded' ? `data in ${resolve(config.SPOOL_DATA_DIR)}` : `AWS region ${config.AWS_REGION}`;
  const queues = [ports.jobsQueue, ports.ordersQueue, ports.callbacksQueue].map((q) => `${q.name} (DLQ after ${q.maxReceiveCount})`);
  const listening = server.listeners.length === 1 ? server.url : server.listeners.map((l) => `${l.url} (${l.region})`).join(', ');
  process.stdout.write(`Spool listening on ${listening}  (${where})\n  queues: ${queues.join(', ')}\n  API reference: ${server.url}/docs\n`);

  let signals = 0;
  const shutdown = (signal: NodeJS.Signals) => {
    if (++signals > 1) process.exit(1);
    logger.info({ signal }, 'shutting down: no new requests, finishing in-flight work');
    server.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

/**
 * `--regions us-east-1,us-east-2` (or `--regions=...`): 1..8 distinct AWS region names.
 * Throws ConfigError on anything else, so a typo stops the start with exit code 2.
 */
function parseRegions(args: readonly string[]): string[] | undefined {
  const problems: string[] = [];
  let value: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--regions') value = args[++i] ?? '';
    else if (arg.startsWith('--regions=')) value = arg.slice('--regions='.length);
    else problems.push(`unknown argument ${JSON.stringify(arg)} (the only option is --regions us-east-1,us-east-2)`);
  }
  if (value === undefined && problems.length === 0) return undefined;
  const regions = (value ?? '').split(',').map((r) => r.trim());
  if (value !== undefined && (regions.length > 8 || regions.some((r) => !REGION.test(r)) || new Set(regions).size !== regions.length)) {
    problems.push(`--regions: expected 1 to 8 distinct AWS region names separated by commas, e.g. us-east-1,us-east-2; got ${JSON.stringify(value)}`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return regions;
}

const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(error instanceof ConfigError ? 2 : 1);
});
