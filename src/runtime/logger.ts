import { pino, type Logger } from 'pino';
import type { Config } from '../config.js';

/** The application's logger: JSON lines on stdout (CloudWatch reads them as structured logs). */
export function createLogger(config: Config): Logger {
  return pino({ level: config.LOG_LEVEL, base: { service: 'spool', env: config.SPOOL_ENVIRONMENT } });
}
