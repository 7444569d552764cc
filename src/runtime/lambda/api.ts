import { handle } from 'hono/aws-lambda';
import { loadConfig } from '../../config.js';
import { createAwsPorts } from '../aws-ports.js';
import { createLogger } from '../logger.js';
import { createSystem } from '../system.js';

const config = loadConfig();
const logger = createLogger(config);
const system = createSystem(config, createAwsPorts(config), logger);

/**
 * Lambda entry point of the HTTP API: the same Hono app as `npm start`, for API Gateway
 * HTTP API (payload 2.0) and REST API (payload 1.0) proxy events.
 */
export const handler = handle(system.app);
