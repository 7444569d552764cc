import { Duration, type RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer, HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { AuthorizerKind } from '../settings.js';
import { ACCESS_LOG_FORMAT, type SpoolRoute } from './api.js';
import type { DsqlPeeredCluster } from './dsql-cluster.js';
import { allowDsqlConnect, allowDsqlConnectAdmin, allowPutEvents } from './permissions.js';
import { type FunctionSettings, SpoolFunction } from './spool-function.js';
import type { TaskEvents } from './task-events.js';

const { GET, POST, PATCH, DELETE } = apigw.HttpMethod;

/**
 * The routes of the users and tasks API (recipes "distributed serverless app" and
 * "collaborative task management"). `GET /tasks/stream` (server-sent events) is left out: a
 * buffered Lambda response cannot stream, and the function answers it 501 when it arrives
 * through `GET /tasks/{id}`.
 */
export const TASK_ROUTES: readonly SpoolRoute[] = [
  { method: GET, path: '/health', access: 'public' },
  { method: GET, path: '/openapi.json', access: 'public' },
  { method: GET, path: '/docs', access: 'public' },
  { method: POST, path: '/users', access: 'caller' },
  { method: GET, path: '/users', access: 'caller' },
  { method: GET, path: '/users/{id}', access: 'caller' },
  { method: PATCH, path: '/users/{id}', access: 'caller' },
  { method: DELETE, path: '/users/{id}', access: 'caller' },
  { method: POST, path: '/tasks', access: 'caller' },
  { method: GET, path: '/tasks', access: 'caller' },
  { method: GET, path: '/tasks/{id}', access: 'caller' },
  { method: PATCH, path: '/tasks/{id}', access: 'caller' },
  { method: DELETE, path: '/tasks/{id}', access: 'caller' },
  { method: POST, path: '/tasks/{id}/comments', access: 'caller' },
  { method: GET, path: '/tasks/{id}/comments', access: 'caller' },
  { method: GET, path: '/tasks/{id}/activity', access: 'caller' },
  { method: POST, path: '/events', access: 'caller' },
  { method: POST, path: '/events/test-pattern', access: 'caller' },
];

/**
 * The database role the API function logs in as. The migrate function (as `admin`) creates it
 * and maps it to the API function's IAM role, which therefore needs only `dsql:DbConnect`.
 */
export const APP_DB_ROLE = 'spool_app';

/** The entry file of both functions (src/runtime/lambda/task-api.ts: one handler, two modes). */
export const TASK_API_ENTRY = 'src/runtime/lambda/task-api.ts';

/** Properties of {@link TasksApi}. */
export interface TasksApiProps {
  readonly namePrefix: string;
  /** Function names are `task-processor-<environment>` and `task-migrate-<environment>`, as the recipe names the first. */
  readonly environment: string;
  readonly cluster: DsqlPeeredCluster;
  readonly events: TaskEvents;
  readonly functionSettings: FunctionSettings;
  readonly authorizer: AuthorizerKind;
  readonly jwtIssuer?: string;
  readonly jwtAudience?: readonly string[];
  readonly corsAllowOrigins: readonly string[];
  readonly throttleRateLimit: number;
  readonly throttleBurstLimit: number;
  readonly logRetentionDays: number;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * The users and tasks API of one region: the task API function (HTTP API requests, the rule's
 * task events, direct invocations) on this region's DSQL cluster, its HTTP API with the same
 * security defaults as the SQS stack's (stage throttling, JSON access logs, CORS, optional IAM or
 * JWT authorizer), and the migrate function, invoked once per deployment:
 * `aws lambda invoke --function-name task-migrate-<env> --payload '{"action":"migrate"}' out.json`.
 *
 * Grants: the API function `dsql:DbConnect` on this cluster, `events:PutEvents` on the task bus,
 * sending to its own DLQ; the migrate function `dsql:DbConnectAdmin` on this cluster, nothing else.
 */
export class TasksApi extends Construct {
  readonly handler: SpoolFunction;
  readonly migrator: SpoolFunction;
  readonly httpApi: apigw.HttpApi;
  readonly stage: apigw.HttpStage;
  readonly accessLogGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: TasksApiProps) {
    super(scope, id);
    const { cluster, events, functionSettings } = props;
    const region = Stack.of(this).region;
    const sqlEnvironment = {
      ...functionSettings.environment,
      SPOOL_DSQL_ENDPOINT: cluster.endpoint,
      SPOOL_DSQL_REGION: region,
    };

    this.handler = new SpoolFunction(this, 'Handler', {
      ...functionSettings,
      functionName: `task-processor-${props.environment}`,
      entry: TASK_API_ENTRY,
      description: 'Users and tasks API (Hono) and task processor of rule task-processing-rule, on Aurora DSQL',
      deadLetterQueue: events.processorDeadLetterQueue,
      bundleAwsSdk: true,
      environment: {
        ...sqlEnvironment,
        SPOOL_TASK_API_MODE: 'api',
        SPOOL_DSQL_USER: APP_DB_ROLE,
        SPOOL_EVENT_BUS_NAME: events.bus.eventBusName,
      },
    });
    allowDsqlConnect(this.handler.role, cluster.clusterArn);
    allowPutEvents(this.handler.role, events.bus);
    events.routeTo(this.handler.function);

    this.migrator = new SpoolFunction(this, 'Migrate', {
      ...functionSettings,
      functionName: `task-migrate-${props.environment}`,
      entry: TASK_API_ENTRY,
      description: 'Applies the SQL migrations and grants the API function its database role ({"action": "migrate"})',
      // Migrations and CREATE INDEX ASYNC return quickly; the margin covers DSQL's schema-conflict retries.
      timeout: Duration.minutes(5),
      bundleAwsSdk: true,
      synchronousOnlyReason:
        'Invoked synchronously, once per deployment, by an operator or pipeline (aws lambda invoke with {"action":"migrate"}); the caller sees the result, so a dead-letter queue would never receive anything.',
      environment: {
        ...sqlEnvironment,
        SPOOL_TASK_API_MODE: 'migrate',
        SPOOL_DSQL_USER: 'admin',
        SPOOL_DSQL_APP_ROLE: APP_DB_ROLE,
        SPOOL_DSQL_APP_IAM_ROLE_ARN: this.handler.role.roleArn,
      },
    });
    allowDsqlConnectAdmin(this.migrator.role, cluster.clusterArn);

    this.httpApi = new apigw.HttpApi(this, 'HttpApi', {
      apiName: `${props.namePrefix}-tasks-api`,
      description: 'Users and tasks on Aurora DSQL',
      createDefaultStage: false,
      corsPreflight: {
        allowOrigins: [...props.corsAllowOrigins],
        allowMethods: [apigw.CorsHttpMethod.GET, apigw.CorsHttpMethod.POST, apigw.CorsHttpMethod.PATCH, apigw.CorsHttpMethod.DELETE, apigw.CorsHttpMethod.OPTIONS],
        allowHeaders: ['content-type', 'authorization', 'if-match', 'x-actor', 'x-amz-date', 'x-amz-security-token', 'x-amz-content-sha256'],
        exposeHeaders: ['etag', 'location', 'x-request-id'],
        maxAge: Duration.hours(1),
      },
    });
    this.accessLogGroup = new logs.LogGroup(this, 'AccessLogs', {
      logGroupName: `/aws/apigateway/${props.namePrefix}-tasks-api`,
      retention: props.logRetentionDays as logs.RetentionDays,
      removalPolicy: props.removalPolicy,
    });
    this.stage = new apigw.HttpStage(this, 'DefaultStage', {
      httpApi: this.httpApi,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: props.throttleRateLimit, burstLimit: props.throttleBurstLimit },
      accessLogSettings: {
        destination: new apigw.LogGroupLogDestination(this.accessLogGroup),
        format: AccessLogFormat.custom(ACCESS_LOG_FORMAT),
      },
    });

    const integration = new HttpLambdaIntegration('TaskApiFunction', this.handler.function, {
      payloadFormatVersion: apigw.PayloadFormatVersion.VERSION_2_0,
      scopePermissionToRoute: false,
    });
    const authorizer = this.authorizer(props);
    const noAuthorizer = new apigw.HttpNoneAuthorizer();
    for (const route of TASK_ROUTES) {
      const guarded = authorizer !== undefined && route.access !== 'public';
      const [httpRoute] = this.httpApi.addRoutes({ path: route.path, methods: [route.method], integration, authorizer: guarded ? authorizer : noAuthorizer });
      if (guarded || httpRoute === undefined) continue;
      Validations.of(httpRoute).acknowledge({
        id: 'AwsSolutions-APIG4',
        reason:
          route.access === 'public'
            ? `${route.method} ${route.path} is public by design: health checks and the API description must work without credentials.`
            : `The stack was synthesized with authorizer=none (the dev default), so ${route.method} ${route.path} is deliberately unauthenticated; deploy with authorizer=iam or jwt to protect it.`,
      });
    }
  }

  /** The API's invoke URL (the `$default` stage). */
  get url(): string {
    return this.stage.url;
  }

  private authorizer(props: TasksApiProps): apigw.IHttpRouteAuthorizer | undefined {
    switch (props.authorizer) {
      case 'none':
        return undefined;
      case 'iam':
        return new HttpIamAuthorizer();
      case 'jwt':
        if (props.jwtIssuer === undefined || props.jwtAudience === undefined || props.jwtAudience.length === 0) {
          throw new Error('authorizer=jwt needs jwtIssuer and jwtAudience');
        }
        return new HttpJwtAuthorizer('JwtAuthorizer', props.jwtIssuer, { jwtAudience: [...props.jwtAudience] });
    }
  }
}
