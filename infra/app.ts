/**
 * CDK entry point (`cdk.json`: `npx tsx infra/app.ts`). Parameters come from context:
 *
 *   npx cdk deploy -c environment=prod -c alertEmail=ops@example.com -c authorizer=jwt \
 *     -c jwtIssuer=https://issuer.example.com -c jwtAudience=spool-api
 *
 * See infra/settings.ts for every parameter and its default.
 *
 * The users and tasks stacks on Aurora DSQL (infra/tasks-region-stack.ts: one stack per region,
 * `<project>-<env>-tasks-<region>`) are synthesized only with `-c tasks=true`, next to the
 * Spool stack: they create clusters in two regions plus a witness region, which a plain
 * `npm run deploy` should not do by surprise. Their parameters: primaryRegion (us-east-1),
 * secondaryRegion (us-east-2), witnessRegion (us-west-2), clusterNamePrefix (task-mgmt),
 * clusterDeletionProtection (true), and, from the second deployment on, primaryClusterId and
 * secondaryClusterId, which peer the two clusters (see infra/constructs/dsql-cluster.ts):
 *
 *   npx cdk deploy 'spool-dev-tasks-*' -c tasks=true                       # 1. clusters, unpeered
 *   npx cdk deploy 'spool-dev-tasks-*' -c tasks=true \
 *     -c primaryClusterId=<id> -c secondaryClusterId=<id>                  # 2. peered
 *   aws lambda invoke --region us-east-1 --function-name task-migrate-dev \
 *     --cli-binary-format raw-in-base64-out --payload '{"action":"migrate"}' out.json   # 3. schema + app role
 *
 * Step 3 runs in each region (it maps that region's API role to the database role); it is
 * idempotent, and is repeated after any deployment that adds migrations.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { settingsFromContext, tasksSettingsFromContext } from './settings.js';
import { SpoolStack } from './spool-stack.js';
import { createTasksStacks } from './tasks-region-stack.js';

const app = new App();
const read = (key: string): unknown => app.node.tryGetContext(key);
const params = settingsFromContext(read);
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

const tasks = read('tasks');
if (tasks === true || tasks === 'true') {
  // Regions are parameters here, not the CLI's default region: each stack names its own.
  createTasksStacks(app, tasksSettingsFromContext(read), { account: process.env.CDK_DEFAULT_ACCOUNT });
}

// Synthesis fails on any unacknowledged cdk-nag finding (see test/infra/cdk-nag.test.ts).
Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
