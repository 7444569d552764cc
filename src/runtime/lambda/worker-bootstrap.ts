import { loadConfig } from '../../config.js';
import { createAwsPorts } from '../aws-ports.js';
import { createConsumers } from '../consumers.js';
import { createLogger } from '../logger.js';

/**
 * Built once per Lambda execution environment (cold start) and reused by every
 * invocation: configuration, clients and record handlers. No HTTP code is imported.
 */
const config = loadConfig();
/** The function's logger (JSON lines; level from LOG_LEVEL). */
export const logger = createLogger(config);
/** The AWS ports the consumers use; the dead-letter reconciler also needs the jobs table (its ledger) and the alerts topic. */
export const ports = createAwsPorts(config);
export const consumers = createConsumers(config, ports, logger);
