import { Annotations, Duration, type RemovalPolicy, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer, HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { AuthorizerKind } from '../settings.js';
import { allowBucketRead, allowDeadLetterAdmin, allowQueueSend, allowTableDescribe, allowTableReadWrite } from './permissions.js';
import type { SpoolQueues } from './queues.js';
import { type FunctionSettings, SpoolFunction } from './spool-function.js';
import type { SpoolStorage } from './storage.js';

/**
 * Who may call a route once an authorizer is configured:
 * - `public`: never authorized (health checks, API description);
 * - `caller`: the business routes;
 * - `admin`: dead-letter inspection and redrive; always behind the authorizer when there is one.
 */
export type RouteAccess = 'public' | 'caller' | 'admin';

/** One route of the HTTP API. All routes go to the one API function, a Hono app that routes again. */
export interface SpoolRoute {
  readonly method: apigw.HttpMethod;
  readonly path: string;
  readonly access: RouteAccess;
}

const { GET, POST } = apigw.HttpMethod;

/** Every route the Hono app in src/http serves. */
export const ROUTES: readonly SpoolRoute[] = [
  { method: POST, path: '/submit', access: 'caller' },
  { method: POST, path: '/jobs', access: 'caller' },
  { method: GET, path: '/jobs', access: 'caller' },
  { method: GET, path: '/jobs/{jobId}', access: 'caller' },
  { method: GET, path: '/jobs/{jobId}/result', access: 'caller' },
  { method: GET, path: '/status/{jobId}', access: 'caller' },
  { method: POST, path: '/orders', access: 'caller' },
  { method: GET, path: '/orders/{orderId}', access: 'caller' },
  { method: GET, path: '/health', access: 'public' },
  { method: GET, path: '/openapi.json', access: 'public' },
  { method: GET, path: '/docs', access: 'public' },
  { method: GET, path: '/admin/queues', access: 'admin' },
  { method: GET, path: '/admin/queues/{name}/dlq', access: 'admin' },
  { method: POST, path: '/admin/queues/{name}/redrive', access: 'admin' },
];

/** Properties of {@link SpoolApi}. */
export interface SpoolApiProps {
  readonly namePrefix: string;
  readonly queues: SpoolQueues;
  readonly storage: SpoolStorage;
  readonly functionSettings: FunctionSettings;
  readonly authorizer: AuthorizerKind;
  /** Required when `authorizer` is `jwt`. */
  readonly jwtIssuer?: string;
  /** Required when `authorizer` is `jwt`. */
  readonly jwtAudience?: readonly string[];
  readonly corsAllowOrigins: readonly string[];
  readonly throttleRateLimit: number;
  readonly throttleBurstLimit: number;
  readonly logRetentionDays: number;
  readonly removalPolicy: RemovalPolicy;
}

// HTTP API context variables, one JSON object per request (CloudWatch Logs Insights parses it).
export const ACCESS_LOG_FORMAT = JSON.stringify({
  requestId: '$context.requestId',
  ip: '$context.identity.sourceIp',
  requestTime: '$context.requestTime',
  httpMethod: '$context.httpMethod',
  routeKey: '$context.routeKey',
  path: '$context.path',
  status: '$context.status',
  protocol: '$context.protocol',
  responseLength: '$context.responseLength',
  responseLatency: '$context.responseLatency',
  integrationLatency: '$context.integrationLatency',
  integrationError: '$context.integrationErrorMessage',
  authorizerError: '$context.authorizer.error',
  principal: '$context.authorizer.principalId',
  userAgent: '$context.identity.userAgent',
});

/**
 * The public HTTP API: an API Gateway HTTP API whose routes all invoke the API function,
 * with CORS, stage throttling, JSON access logs, and an optional IAM or JWT authorizer.
 *
 * The API function may read and write both tables (and describe the jobs table for health
 * checks), send to the three main queues, administer the three dead-letter queues (peek,
 * redrive) and read results.
 */
export class SpoolApi extends Construct {
  readonly handler: SpoolFunction;
  readonly httpApi: apigw.HttpApi;
  readonly stage: apigw.HttpStage;
  readonly accessLogGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: SpoolApiProps) {
    super(scope, id);
    const { queues, storage } = props;

    this.handler = new SpoolFunction(this, 'Handler', {
      ...props.functionSettings,
      functionName: `${props.namePrefix}-api`,
      entry: 'src/runtime/lambda/api.ts',
      description: 'Spool HTTP API (Hono)',
    });
    const role = this.handler.role;
    allowTableReadWrite(role, storage.jobsTable);
    allowTableReadWrite(role, storage.ordersTable);
    allowTableDescribe(role, storage.jobsTable); // GET /health
    for (const pair of queues.all) {
      allowQueueSend(role, pair.queue); // submit, and the redrive target
      allowDeadLetterAdmin(role, pair.deadLetterQueue);
    }
    allowBucketRead(role, storage.resultsBucket);
    Validations.of(this.handler).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${storage.resultsBucketLogicalId}.Arn>/*]`,
      reason: 'GET /jobs/{jobId}/result reads result objects whose keys derive from job ids, unknown at deploy time; the grant is s3:GetObject only, in this one bucket.',
    });

    this.httpApi = new apigw.HttpApi(this, 'HttpApi', {
      apiName: `${props.namePrefix}-api`,
      description: 'Spool asynchronous API',
      // The stage is created below with access logs and throttling, which the default stage lacks.
      createDefaultStage: false,
      corsPreflight: {
        allowOrigins: [...props.corsAllowOrigins],
        allowMethods: [apigw.CorsHttpMethod.GET, apigw.CorsHttpMethod.POST, apigw.CorsHttpMethod.OPTIONS],
        allowHeaders: ['content-type', 'authorization', 'idempotency-key', 'x-amz-date', 'x-amz-security-token', 'x-amz-content-sha256'],
        exposeHeaders: ['location', 'retry-after', 'x-request-id'],
        maxAge: Duration.hours(1),
      },
    });

    this.accessLogGroup = new logs.LogGroup(this, 'AccessLogs', {
      logGroupName: `/aws/apigateway/${props.namePrefix}-api`,
      // RetentionDays members are the day counts themselves; settings.ts admits only valid ones.
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

    // One Lambda permission for the whole API instead of one per route (14 routes).
    const integration = new HttpLambdaIntegration('ApiFunction', this.handler.function, {
      payloadFormatVersion: apigw.PayloadFormatVersion.VERSION_2_0,
      scopePermissionToRoute: false,
    });
    const authorizer = this.authorizer(props);
    const noAuthorizer = new apigw.HttpNoneAuthorizer();
    for (const route of ROUTES) {
      const guarded = authorizer !== undefined && route.access !== 'public';
      const [httpRoute] = this.httpApi.addRoutes({
        path: route.path,
        methods: [route.method],
        integration,
        authorizer: guarded ? authorizer : noAuthorizer,
      });
      if (guarded || httpRoute === undefined) continue;
      Validations.of(httpRoute).acknowledge({
        id: 'AwsSolutions-APIG4',
        reason:
          route.access === 'public'
            ? `${route.method} ${route.path} is public by design: health checks and the API description must work without credentials.`
            : `The stack was synthesized with authorizer=none (the dev default), so ${route.method} ${route.path} is deliberately unauthenticated; deploy with authorizer=iam or jwt to protect it.`,
      });
    }
    if (authorizer === undefined) {
      Annotations.of(this).addWarningV2(
        'spool:admin-routes-unauthenticated',
        'authorizer=none: /admin/queues routes (dead-letter peek and redrive) are callable by anyone who knows the API URL. Use -c authorizer=iam or -c authorizer=jwt outside development.',
      );
    }
  }

  /** The API's invoke URL (the `$default` stage). */
  get url(): string {
    return this.stage.url;
  }

  private authorizer(props: SpoolApiProps): apigw.IHttpRouteAuthorizer | undefined {
    switch (props.authorizer) {
      case 'none':
        return undefined;
      case 'iam':
        // SigV4-signed requests; callers need execute-api:Invoke on the routes.
        return new HttpIamAuthorizer();
      case 'jwt':
        if (props.jwtIssuer === undefined || props.jwtAudience === undefined || props.jwtAudience.length === 0) {
          throw new Error('authorizer=jwt needs jwtIssuer and jwtAudience');
        }
        return new HttpJwtAuthorizer('JwtAuthorizer', props.jwtIssuer, { jwtAudience: [...props.jwtAudience] });
    }
  }
}
