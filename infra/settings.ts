/**
 * Deployment parameters of the Spool stack: their defaults, their validation, and how they
 * are read from CDK context (`cdk deploy -c environment=prod -c authorizer=jwt ...`).
 *
 * Names follow the recipes (ProjectName, Environment, AlertEmail, ...). Every value is
 * validated once here and all problems are reported together, like `src/config.ts`.
 */

/** How API routes are authorized. */
export type AuthorizerKind = 'none' | 'iam' | 'jwt';

/** What happens to stateful resources (tables, buckets, queues, keys, secret, log groups) on stack deletion. */
export type DataRemovalPolicy = 'destroy' | 'retain';

/** Parameters as a caller may give them: everything optional, defaults filled by {@link resolveSettings}. */
export interface SpoolSettingsInput {
  /** Prefix of every resource name. Default `spool`. */
  readonly projectName?: string;
  /** Environment name, also `SPOOL_ENVIRONMENT` in the functions. Default `dev`. */
  readonly environment?: string;
  /** Where alarm notifications are emailed; no subscription when unset. */
  readonly alertEmail?: string;
  /** Memory of every function, MB. Default 512. */
  readonly lambdaMemorySize?: number;
  /** Timeout of every function, seconds. Default 30. Queue visibility timeouts derive from it. */
  readonly lambdaTimeout?: number;
  /** Retention of function, API access and S3 access logs, days. Default 14. */
  readonly logRetentionDays?: number;
  /** Results objects expire this many days after they are written. Default 30. */
  readonly resultsExpirationDays?: number;
  /** `none` (default), `iam` (SigV4) or `jwt` (needs `jwtIssuer` and `jwtAudience`). */
  readonly authorizer?: AuthorizerKind;
  /** JWT issuer URL (`https://...`), required when `authorizer` is `jwt`. */
  readonly jwtIssuer?: string;
  /** Accepted JWT audiences, required when `authorizer` is `jwt`. */
  readonly jwtAudience?: readonly string[];
  /** Default: `destroy` when `environment` is `dev`, otherwise `retain`. */
  readonly dataRemovalPolicy?: DataRemovalPolicy;
  /** Steady-state request rate of the API stage, requests per second. Default 100. */
  readonly apiThrottleRateLimit?: number;
  /** Burst capacity of the API stage, requests. Default 200. */
  readonly apiThrottleBurstLimit?: number;
  /** Origins allowed by CORS. Default `["*"]`. */
  readonly corsAllowOrigins?: readonly string[];
  /** Alarm when a main queue's oldest message is older than this, seconds. Default 600. */
  readonly queueAgeAlarmSeconds?: number;
}

/** Parameters after defaults and validation. */
export interface SpoolSettings {
  readonly projectName: string;
  readonly environment: string;
  readonly alertEmail: string | undefined;
  readonly lambdaMemorySize: number;
  readonly lambdaTimeout: number;
  readonly logRetentionDays: number;
  readonly resultsExpirationDays: number;
  readonly authorizer: AuthorizerKind;
  readonly jwtIssuer: string | undefined;
  readonly jwtAudience: readonly string[];
  readonly dataRemovalPolicy: DataRemovalPolicy;
  readonly apiThrottleRateLimit: number;
  readonly apiThrottleBurstLimit: number;
  readonly corsAllowOrigins: readonly string[];
  readonly queueAgeAlarmSeconds: number;
  /** `${projectName}-${environment}`: the prefix of every physical resource name. */
  readonly namePrefix: string;
}

/** Thrown when parameters are invalid; names every problem at once. */
export class SpoolSettingsError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid Spool stack parameters:\n  - ${problems.join('\n  - ')}`);
    this.name = 'SpoolSettingsError';
  }
}

// CloudWatch Logs accepts only these retention periods.
const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];
// The longest suffix appended to the prefix is `-callbacks-worker` (17) and Lambda names stop at 64.
const MAX_PREFIX_LENGTH = 64 - '-callbacks-worker'.length;

/**
 * Applies defaults and validates.
 *
 * @throws SpoolSettingsError listing every invalid parameter.
 */
export function resolveSettings(input: SpoolSettingsInput = {}): SpoolSettings {
  const problems: string[] = [];
  const check = (ok: boolean, problem: string): void => {
    if (!ok) problems.push(problem);
  };
  const integer = (name: string, value: number, min: number, max: number): void =>
    check(Number.isInteger(value) && value >= min && value <= max, `${name} must be an integer in [${min}, ${max}], got ${value}`);

  const projectName = input.projectName ?? 'spool';
  const environment = input.environment ?? 'dev';
  const settings: SpoolSettings = {
    projectName,
    environment,
    alertEmail: input.alertEmail,
    lambdaMemorySize: input.lambdaMemorySize ?? 512,
    lambdaTimeout: input.lambdaTimeout ?? 30,
    logRetentionDays: input.logRetentionDays ?? 14,
    resultsExpirationDays: input.resultsExpirationDays ?? 30,
    authorizer: input.authorizer ?? 'none',
    jwtIssuer: input.jwtIssuer,
    jwtAudience: input.jwtAudience ?? [],
    dataRemovalPolicy: input.dataRemovalPolicy ?? (environment === 'dev' ? 'destroy' : 'retain'),
    apiThrottleRateLimit: input.apiThrottleRateLimit ?? 100,
    apiThrottleBurstLimit: input.apiThrottleBurstLimit ?? 200,
    corsAllowOrigins: input.corsAllowOrigins ?? ['*'],
    queueAgeAlarmSeconds: input.queueAgeAlarmSeconds ?? 600,
    namePrefix: `${projectName}-${environment}`,
  };

  check(/^[a-z][a-z0-9-]{0,19}$/.test(projectName), `projectName must match ^[a-z][a-z0-9-]{0,19}$, got ${JSON.stringify(projectName)}`);
  // Same rule as SPOOL_ENVIRONMENT in src/config.ts, so the functions accept what the stack sets.
  check(/^[a-z0-9-]{1,32}$/.test(environment), `environment must match ^[a-z0-9-]{1,32}$, got ${JSON.stringify(environment)}`);
  check(settings.namePrefix.length <= MAX_PREFIX_LENGTH, `projectName-environment must be at most ${MAX_PREFIX_LENGTH} characters`);
  if (settings.alertEmail !== undefined) {
    check(/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(settings.alertEmail), `alertEmail is not an email address: ${JSON.stringify(settings.alertEmail)}`);
  }
  integer('lambdaMemorySize', settings.lambdaMemorySize, 128, 10_240);
  integer('lambdaTimeout', settings.lambdaTimeout, 1, 900);
  check(LOG_RETENTION_DAYS.includes(settings.logRetentionDays), `logRetentionDays must be one of ${LOG_RETENTION_DAYS.join(', ')}, got ${settings.logRetentionDays}`);
  integer('resultsExpirationDays', settings.resultsExpirationDays, 1, 3650);
  check(['none', 'iam', 'jwt'].includes(settings.authorizer), `authorizer must be none, iam or jwt, got ${JSON.stringify(settings.authorizer)}`);
  if (settings.authorizer === 'jwt') {
    check(settings.jwtIssuer !== undefined && /^https:\/\/\S+$/.test(settings.jwtIssuer), 'jwtIssuer must be an https:// URL when authorizer is jwt');
    check(settings.jwtAudience.length > 0, 'jwtAudience must name at least one audience when authorizer is jwt');
  }
  check(['destroy', 'retain'].includes(settings.dataRemovalPolicy), `dataRemovalPolicy must be destroy or retain, got ${JSON.stringify(settings.dataRemovalPolicy)}`);
  integer('apiThrottleRateLimit', settings.apiThrottleRateLimit, 1, 10_000);
  integer('apiThrottleBurstLimit', settings.apiThrottleBurstLimit, 1, 5_000);
  check(settings.corsAllowOrigins.length > 0, 'corsAllowOrigins must name at least one origin');
  integer('queueAgeAlarmSeconds', settings.queueAgeAlarmSeconds, 60, 1_209_600);

  if (problems.length > 0) throw new SpoolSettingsError(problems);
  return settings;
}

/** Reads one context value; `cdk -c key=value` always gives strings, cdk.json may give any JSON. */
export type ContextReader = (key: string) => unknown;

/**
 * Reads the parameters from CDK context. Numbers and lists given as strings on the command
 * line (`-c lambdaMemorySize=1024`, `-c jwtAudience=a,b`) are converted; what cannot be
 * converted is passed through so that {@link resolveSettings} reports it.
 */
export function settingsFromContext(read: ContextReader): SpoolSettingsInput {
  const text = (key: string): string | undefined => {
    const value = read(key);
    if (value === undefined || value === null || value === '') return undefined;
    return String(value);
  };
  const num = (key: string): number | undefined => {
    const value = text(key);
    return value === undefined ? undefined : Number(value);
  };
  const list = (key: string): string[] | undefined => {
    const value = read(key);
    if (Array.isArray(value)) return value.map(String);
    const raw = text(key);
    return raw === undefined ? undefined : raw.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  };
  return {
    projectName: text('projectName'),
    environment: text('environment'),
    alertEmail: text('alertEmail'),
    lambdaMemorySize: num('lambdaMemorySize'),
    lambdaTimeout: num('lambdaTimeout'),
    logRetentionDays: num('logRetentionDays'),
    resultsExpirationDays: num('resultsExpirationDays'),
    authorizer: text('authorizer') as AuthorizerKind | undefined,
    jwtIssuer: text('jwtIssuer'),
    jwtAudience: list('jwtAudience'),
    dataRemovalPolicy: text('dataRemovalPolicy') as DataRemovalPolicy | undefined,
    apiThrottleRateLimit: num('apiThrottleRateLimit'),
    apiThrottleBurstLimit: num('apiThrottleBurstLimit'),
    corsAllowOrigins: list('corsAllowOrigins'),
    queueAgeAlarmSeconds: num('queueAgeAlarmSeconds'),
  };
}

// ---------------------------------------------------------------------------------------------
// The users and tasks stacks on Aurora DSQL (infra/tasks-region-stack.ts)
// ---------------------------------------------------------------------------------------------

/**
 * Parameters of the DSQL stacks, as a caller may give them: the shared ones above (project,
 * environment, functions, API, alerts, removal) plus the regions and the clusters.
 */
export interface TasksSettingsInput extends SpoolSettingsInput {
  /** Region of the first peered cluster and its API. Default `us-east-1`. */
  readonly primaryRegion?: string;
  /** Region of the second peered cluster and its API. Default `us-east-2`. */
  readonly secondaryRegion?: string;
  /** Witness region of the multi-Region cluster (no endpoint, no stack of ours). Default `us-west-2`. */
  readonly witnessRegion?: string;
  /** Prefix of the clusters' `Name` tags (`<prefix>-<region>`). Default `task-mgmt`. */
  readonly clusterNamePrefix?: string;
  /** `DeletionProtectionEnabled` of both clusters. Default true. */
  readonly clusterDeletionProtection?: boolean;
  /**
   * Identifiers of the clusters that the first deployment created (26 characters each, the
   * stacks' `ClusterIdentifier` outputs). Give both to peer the clusters (second deployment);
   * give neither on the first one. Keep them in cdk.json afterwards: a deployment without
   * them would take the peering away.
   */
  readonly primaryClusterId?: string;
  readonly secondaryClusterId?: string;
}

/** The DSQL stacks' parameters after defaults and validation. */
export interface TasksSettings extends SpoolSettings {
  readonly primaryRegion: string;
  readonly secondaryRegion: string;
  readonly witnessRegion: string;
  readonly clusterNamePrefix: string;
  readonly clusterDeletionProtection: boolean;
  /** Both identifiers once the clusters are to be peered, else undefined. */
  readonly peerClusterIds: { readonly primary: string; readonly secondary: string } | undefined;
  /** The two regions that get a stack: primary, then secondary. */
  readonly regions: readonly [string, string];
}

const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;
const CLUSTER_ID = /^[a-z0-9]{26}$/;

/**
 * Applies defaults and validates the DSQL stacks' parameters, reporting every problem (shared
 * and DSQL-specific) together.
 *
 * @throws SpoolSettingsError listing every invalid parameter.
 */
export function resolveTasksSettings(input: TasksSettingsInput = {}): TasksSettings {
  const problems: string[] = [];
  let base: SpoolSettings | undefined;
  try {
    base = resolveSettings(input);
  } catch (error) {
    if (!(error instanceof SpoolSettingsError)) throw error;
    problems.push(...error.problems);
  }
  const check = (ok: boolean, problem: string): void => {
    if (!ok) problems.push(problem);
  };
  const primaryRegion = input.primaryRegion ?? 'us-east-1';
  const secondaryRegion = input.secondaryRegion ?? 'us-east-2';
  const witnessRegion = input.witnessRegion ?? 'us-west-2';
  const clusterNamePrefix = input.clusterNamePrefix ?? 'task-mgmt';
  for (const [name, value] of [['primaryRegion', primaryRegion], ['secondaryRegion', secondaryRegion], ['witnessRegion', witnessRegion]] as const) {
    check(REGION.test(value), `${name} must be an AWS region such as us-east-1, got ${JSON.stringify(value)}`);
  }
  check(new Set([primaryRegion, secondaryRegion, witnessRegion]).size === 3, 'primaryRegion, secondaryRegion and witnessRegion must be three different regions');
  check(/^[a-z][a-z0-9-]{0,39}$/.test(clusterNamePrefix), `clusterNamePrefix must match ^[a-z][a-z0-9-]{0,39}$, got ${JSON.stringify(clusterNamePrefix)}`);
  const clusterDeletionProtection = input.clusterDeletionProtection ?? true;
  check(typeof clusterDeletionProtection === 'boolean', `clusterDeletionProtection must be true or false, got ${JSON.stringify(clusterDeletionProtection)}`);
  const { primaryClusterId, secondaryClusterId } = input;
  for (const [name, value] of [['primaryClusterId', primaryClusterId], ['secondaryClusterId', secondaryClusterId]] as const) {
    if (value !== undefined) check(CLUSTER_ID.test(value), `${name} must be a DSQL cluster identifier (26 lower-case letters and digits), got ${JSON.stringify(value)}`);
  }
  check((primaryClusterId === undefined) === (secondaryClusterId === undefined), 'primaryClusterId and secondaryClusterId go together: give both to peer the clusters, or neither');

  if (problems.length > 0 || base === undefined) throw new SpoolSettingsError(problems);
  return {
    ...base,
    primaryRegion,
    secondaryRegion,
    witnessRegion,
    clusterNamePrefix,
    clusterDeletionProtection,
    peerClusterIds: primaryClusterId === undefined || secondaryClusterId === undefined ? undefined : { primary: primaryClusterId, secondary: secondaryClusterId },
    regions: [primaryRegion, secondaryRegion],
  };
}

/** Reads the DSQL stacks' parameters from CDK context (`-c primaryRegion=eu-west-1 ...`), with the shared ones. */
export function tasksSettingsFromContext(read: ContextReader): TasksSettingsInput {
  const text = (key: string): string | undefined => {
    const value = read(key);
    if (value === undefined || value === null || value === '') return undefined;
    return String(value);
  };
  const flag = (key: string): boolean | undefined => {
    const value = read(key);
    if (value === undefined || value === null || value === '') return undefined;
    if (value === true || value === 'true') return true;
    if (value === false || value === 'false') return false;
    return value as boolean; // reported by resolveTasksSettings
  };
  return {
    ...settingsFromContext(read),
    primaryRegion: text('primaryRegion'),
    secondaryRegion: text('secondaryRegion'),
    witnessRegion: text('witnessRegion'),
    clusterNamePrefix: text('clusterNamePrefix'),
    clusterDeletionProtection: flag('clusterDeletionProtection'),
    primaryClusterId: text('primaryClusterId'),
    secondaryClusterId: text('secondaryClusterId'),
  };
}
