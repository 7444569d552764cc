import { loadConfig } from '../../config.js';
import { createAwsPorts } from '../aws-ports.js';
import { createConsumers } from '../consumers.js';
import { createLogger } from '../logger.js';

/**
 * Built once per Lambda execution environment (cold start) and reused by every
 * invocation: configuration, clients and record handlers. No HTTP code is imported.
 */
const config = loadConfig();
const logger = createLogger(config);
export const consumers = createConsumers(config, createAwsPorts(config), logger);
