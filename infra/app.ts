/**
 * CDK entry point (`cdk.json`: `npx tsx infra/app.ts`). Parameters come from context:
 *
 *   npx cdk deploy -c environment=prod -c alertEmail=ops@example.com -c authorizer=jwt \
 *     -c jwtIssuer=https://issuer.example.com -c jwtAudience=spool-api
 *
 * See infra/settings.ts for every parameter and its default.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { settingsFromContext } from './settings.js';
import { SpoolStack } from './spool-stack.js';

const app = new App();
const params = settingsFromContext((key) => app.node.tryGetContext(key));
const projectName = params.projectName ?? 'spool';
const environment = params.environment ?? 'dev';

new SpoolStack(app, `${projectName}-${environment}`, {
  ...params,
  description: `Spool asynchronous APIs (${environment})`,
  // Synthesis must work offline without credentials: the account stays unresolved (deploy
  // fills it from the credentials) and the region falls back to us-east-1.
  env: {
    account: process.env.CDK_DEFAULT_ACCOUNT,
    region: process.env.CDK_DEFAULT_REGION ?? 'us-east-1',
  },
});

// Synthesis fails on any unacknowledged cdk-nag finding (see test/infra/cdk-nag.test.ts).
Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
