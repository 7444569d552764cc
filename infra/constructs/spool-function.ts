import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Duration, type RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/** The repository root: bundling resolves `node_modules` and the lock file from here. */
export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * The Lambda runtime of every function: the newest Node.js this aws-cdk-lib knows, pinned
 * (not `NODEJS_LATEST`) so that a library upgrade never changes the runtime silently.
 */
export const FUNCTION_RUNTIME = lambda.Runtime.NODEJS_24_X;

/** Settings every Spool function shares. */
export interface FunctionSettings {
  readonly memorySize: number;
  readonly timeout: Duration;
  readonly logRetentionDays: number;
  readonly removalPolicy: RemovalPolicy;
  /** The shared configuration (`src/config.ts` reads it once at cold start). */
  readonly environment: Readonly<Record<string, string>>;
}

/** Properties of {@link SpoolFunction}. */
export interface SpoolFunctionProps extends FunctionSettings {
  /** Physical function name. */
  readonly functionName: string;
  /** Entry file relative to the repository root; it must export `handler`. */
  readonly entry: string;
  readonly description: string;
  /**
   * Where Lambda sends events of asynchronous invocations (EventBridge, ...) that failed every
   * retry. Without one the function must never be invoked asynchronously: say why in
   * {@link synchronousOnlyReason}.
   */
  readonly deadLetterQueue?: sqs.IQueue;
  /** Why a function without a dead-letter queue needs none (default: the SQS stack's reason). */
  readonly synchronousOnlyReason?: string;
  /**
   * Bundle the AWS SDK into the function instead of using the runtime's copy (default false).
   * Needed for SDK packages the Lambda runtime does not ship, such as `@aws-sdk/dsql-signer`.
   */
  readonly bundleAwsSdk?: boolean;
}

/** Why the SQS stack's functions need no dead-letter queue of their own. */
const SYNCHRONOUS_ONLY_REASON =
  "Never invoked asynchronously: API Gateway invokes synchronously and SQS through an event source mapping, where failed messages go to the source queue's redrive DLQ; a function DLQ would never receive anything.";

/**
 * One Spool Lambda function: a bundled ESM Node.js handler on arm64 with X-Ray tracing,
 * JSON logs to its own log group with a retention, and a role that starts with nothing but
 * writing to that log group (callers add the grants the function needs).
 */
export class SpoolFunction extends Construct {
  readonly function: NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: SpoolFunctionProps) {
    super(scope, id);

    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      logGroupName: `/aws/lambda/${props.functionName}`,
      // RetentionDays members are the day counts themselves; settings.ts admits only valid ones.
      retention: props.logRetentionDays as logs.RetentionDays,
      removalPolicy: props.removalPolicy,
    });

    // An explicit role instead of AWSLambdaBasicExecutionRole: that managed policy allows
    // logs:CreateLogGroup and writing to every log group in the account.
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of ${props.functionName}`,
    });
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [this.logGroup.logGroupArn],
      }),
    );

    this.function = new NodejsFunction(this, 'Function', {
      functionName: props.functionName,
      description: props.description,
      entry: join(PROJECT_ROOT, props.entry),
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: join(PROJECT_ROOT, 'package-lock.json'),
      runtime: FUNCTION_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize,
      timeout: props.timeout,
      tracing: lambda.Tracing.ACTIVE,
      loggingFormat: lambda.LoggingFormat.JSON,
      logGroup: this.logGroup,
      role: this.role,
      ...(props.deadLetterQueue === undefined ? {} : { deadLetterQueue: props.deadLetterQueue }),
      environment: {
        ...props.environment,
        // Stack traces point at the TypeScript sources (the bundle ships a source map).
        NODE_OPTIONS: '--enable-source-maps',
      },
      bundling: {
        format: OutputFormat.ESM,
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        // Prefer ESM builds of dependencies so esbuild can tree-shake them.
        mainFields: ['module', 'main'],
        // CommonJS dependencies bundled into ESM may still call require() for Node built-ins.
        banner: "import { createRequire as __spoolCreateRequire } from 'node:module';const require = __spoolCreateRequire(import.meta.url);",
        externalModules:
          props.bundleAwsSdk === true
            ? [
                // Native addons, never loaded on Lambda: the embedded backend's, and pg's optional libpq binding.
                'better-sqlite3',
                'pg-native',
              ]
            : [
                // Provided by the Lambda runtime.
                '@aws-sdk/*',
                // The embedded backend's native addon: never loaded when SPOOL_BACKEND=aws and not bundleable.
                'better-sqlite3',
              ],
      },
    });

    Validations.of(this).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'Tracing.ACTIVE adds xray:PutTraceSegments and xray:PutTelemetryRecords, which support no resource-level permissions.',
    });
    if (props.deadLetterQueue === undefined) {
      Validations.of(this).acknowledge({ id: 'Serverless-LambdaDLQ', reason: props.synchronousOnlyReason ?? SYNCHRONOUS_ONLY_REASON });
    }
  }
}
