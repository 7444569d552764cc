import { resolve } from 'node:path';
import { loadConfig } from '../../config.js';
import { ConfigError } from '../../errors.js';
import { createPorts } from '../create-ports.js';
import { startLocalServer } from './server.js';

/** `npm start`: the whole system in this process. Exit codes: 0 clean stop, 1 failure, 2 bad configuration. */
async function main(): Promise<void> {
  const config = loadConfig();
  const server = await startLocalServer(config, (logger) => createPorts(config, logger));
  const { logger, ports } = server.system;
  const where = config.SPOOL_BACKEND === 'embedded' ? `data in ${resolve(config.SPOOL_DATA_DIR)}` : `AWS region ${config.AWS_REGION}`;
  const queues = [ports.jobsQueue, ports.ordersQueue, ports.callbacksQueue].map((q) => `${q.name} (DLQ after ${q.maxReceiveCount})`);
  process.stdout.write(`Spool listening on ${server.url}  (${where})\n  queues: ${queues.join(', ')}\n  API reference: ${server.url}/docs\n`);

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

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(error instanceof ConfigError ? 2 : 1);
});
