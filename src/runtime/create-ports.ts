import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { createAwsPorts } from './aws-ports.js';
import { createEmbeddedPorts } from './embedded-ports.js';
import type { Ports } from './ports.js';

/** The ports of the configured backend (`SPOOL_BACKEND`). */
export function createPorts(config: Config, logger: Logger): Ports {
  return config.SPOOL_BACKEND === 'aws' ? createAwsPorts(config) : createEmbeddedPorts(config, logger);
}
