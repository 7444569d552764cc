import * as z from 'zod';
import { ConfigError } from './errors.js';

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const optionalString = z.string().min(1).optional();

/**
 * Every setting Spool reads, from environment variables, validated once. Names and
 * defaults are documented in the README's configuration table.
 */
const schema = z
  .object({
    PORT: int(0, 65_535).default(3000),
    HOST: z.string().min(1).default('127.0.0.1'),
    SPOOL_BACKEND: z.enum(['embedded', 'aws']).default('embedded'),
    SPOOL_DATA_DIR: z.string().min(1).default('./.spool'),
    SPOOL_ENVIRONMENT: z.string().regex(/^[a-z0-9-]{1,32}$/).default('dev'),
    // The task events bus; default task-events-{SPOOL_ENVIRONMENT} (see eventBusName()).
    SPOOL_EVENT_BUS_NAME: z.string().regex(/^[/.\-_A-Za-z0-9]{1,256}$/, 'expected an EventBridge bus name').optional(),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    SPOOL_BODY_LIMIT_BYTES: int(1024, 10 * 1024 * 1024).default(256 * 1024),
    SPOOL_SHUTDOWN_TIMEOUT_MS: int(0, 600_000).default(30_000),
    /** How often the local runtime looks for messages dead-lettered without an alert (also once at start). */
    SPOOL_RECONCILE_INTERVAL_MS: int(1000, 3_600_000).default(30_000),
    // Queues (recipe defaults): visibility 300 s, retention 14 days, DLQ after 3 (jobs) / 5 (orders).
    SPOOL_JOBS_VISIBILITY_SECONDS: int(1, 43_200).default(300),
    SPOOL_JOBS_MAX_RECEIVE_COUNT: int(1, 1000).default(3),
    SPOOL_ORDERS_VISIBILITY_SECONDS: int(1, 43_200).default(300),
    SPOOL_ORDERS_MAX_RECEIVE_COUNT: int(1, 1000).default(5),
    SPOOL_CALLBACKS_MAX_RECEIVE_COUNT: int(1, 1000).default(8),
    SPOOL_RETENTION_SECONDS: int(60, 1_209_600).default(1_209_600),
    // Local event source, shaped like a Lambda SQS event source mapping.
    SPOOL_WORKER_BATCH_SIZE: int(1, 10).default(10),
    SPOOL_WORKER_BATCH_WINDOW_MS: int(0, 300_000).default(0),
    SPOOL_WORKER_CONCURRENCY: int(1, 1000).default(4),
    SPOOL_HANDLER_TIMEOUT_MS: int(100, 900_000).default(60_000),
    /** First retry delay; doubles per attempt (capped by the visibility timeout). */
    SPOOL_RETRY_BASE_SECONDS: int(0, 3600).default(2),
    // Alerts topic subscribers (embedded): comma-separated of log, outbox, webhook.
    SPOOL_ALERT_SUBSCRIBERS: z.string().default('log,outbox'),
    SPOOL_ALERT_WEBHOOK_URL: z.url({ protocol: /^https?$/ }).optional(),
    /** HMAC key for job callbacks and alert webhooks; generated and kept in the data dir when unset. */
    SPOOL_CALLBACK_SECRET: z.string().min(16).optional(),
    // AWS backend: resource names come from the CDK outputs (or any SQS/DynamoDB/S3/SNS).
    AWS_REGION: z.string().default('us-east-1'),
    SPOOL_AWS_ENDPOINT: z.url().optional(),
    SPOOL_JOBS_QUEUE_URL: optionalString,
    SPOOL_JOBS_DLQ_URL: optionalString,
    SPOOL_ORDERS_QUEUE_URL: optionalString,
    SPOOL_ORDERS_DLQ_URL: optionalString,
    SPOOL_CALLBACKS_QUEUE_URL: optionalString,
    SPOOL_CALLBACKS_DLQ_URL: optionalString,
    SPOOL_JOBS_TABLE: optionalString,
    SPOOL_ORDERS_TABLE: optionalString,
    SPOOL_RESULTS_BUCKET: optionalString,
    SPOOL_ALERTS_TOPIC_ARN: optionalString,
    /** Secrets Manager secret holding the callback HMAC key (AWS backend). */
    SPOOL_CALLBACK_SECRET_ARN: optionalString,
    // SQL store (users, tasks): embedded SQLite (`sql.db` in the data dir) unless one of these is set.
    /** PostgreSQL, e.g. `postgres://user:pass@host:5432/db`. */
    DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
    /** Aurora DSQL cluster endpoint (IAM auth), e.g. `<id>.dsql.us-east-1.on.aws`. */
    SPOOL_DSQL_ENDPOINT: z.string().regex(/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/i, 'expected a hostname').optional(),
    /** Region of the DSQL cluster; default: parsed from the endpoint. */
    SPOOL_DSQL_REGION: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'expected an AWS region').optional(),
    /** DSQL database role: `admin`, or an application role granted `dsql:DbConnect`. */
    SPOOL_DSQL_USER: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,62}$/, 'expected a role name').default('admin'),
  });

/** Settings without which the AWS backend cannot start (they name the resources the CDK app creates). */
const REQUIRED_FOR_AWS = [
  'SPOOL_JOBS_QUEUE_URL',
  'SPOOL_JOBS_DLQ_URL',
  'SPOOL_ORDERS_QUEUE_URL',
  'SPOOL_ORDERS_DLQ_URL',
  'SPOOL_CALLBACKS_QUEUE_URL',
  'SPOOL_CALLBACKS_DLQ_URL',
  'SPOOL_JOBS_TABLE',
  'SPOOL_ORDERS_TABLE',
  'SPOOL_RESULTS_BUCKET',
  'SPOOL_ALERTS_TOPIC_ARN',
] as const;

export type Config = z.infer<typeof schema>;

/**
 * Reads and validates the configuration; throws one ConfigError naming every problem.
 *
 * @example
 * const config = loadConfig({ ...process.env, PORT: '0' });
 */
export function loadConfig(env: Readonly<Record<string, string | undefined>> = process.env): Config {
  // Empty strings mean "unset": `PORT= npm start` should not be an error.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = schema.safeParse(cleaned);
  const problems = parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
  // Checked on the raw values so these are reported together with any type errors above.
  if (cleaned['SPOOL_BACKEND'] === 'aws') {
    for (const key of REQUIRED_FOR_AWS) if (cleaned[key] === undefined) problems.push(`${key}: is required when SPOOL_BACKEND=aws`);
  }
  if (cleaned['DATABASE_URL'] !== undefined && cleaned['SPOOL_DSQL_ENDPOINT'] !== undefined) {
    problems.push('DATABASE_URL: set either DATABASE_URL (PostgreSQL) or SPOOL_DSQL_ENDPOINT (Aurora DSQL), not both');
  }
  if (!parsed.success || problems.length > 0) throw new ConfigError(problems);
  return parsed.data;
}

/**
 * The bus task events go to: `SPOOL_EVENT_BUS_NAME`, else `task-events-{SPOOL_ENVIRONMENT}` as the recipe names it.
 *
 * @example
 * eventBusName(loadConfig({})); // 'task-events-dev'
 */
export function eventBusName(config: Pick<Config, 'SPOOL_EVENT_BUS_NAME' | 'SPOOL_ENVIRONMENT'>): string {
  return config.SPOOL_EVENT_BUS_NAME ?? `task-events-${config.SPOOL_ENVIRONMENT}`;
}
