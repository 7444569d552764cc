import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { TasksSettingsInput } from '../../infra/settings.js';
import { acknowledgments, findings, showFindings, silencesSome } from './support/nag.js';
import { cdkJsonContext } from './support/spool-app.js';
import { buildTasksStacks, PEERED } from './support/tasks-app.js';

/** The parameter combinations of the DSQL stacks whose templates differ in what cdk-nag checks. */
const VARIANTS: Record<string, TasksSettingsInput> = {
  'first deployment (unpeered, authorizer none, dev)': {},
  'second deployment (peered)': PEERED,
  'authorizer iam': { ...PEERED, authorizer: 'iam' },
  'authorizer jwt, alert email, prod': {
    ...PEERED,
    authorizer: 'jwt',
    jwtIssuer: 'https://issuer.example.com',
    jwtAudience: ['spool-api'],
    alertEmail: 'ops@example.com',
    environment: 'prod',
  },
};

describe.each(Object.entries(VARIANTS))('cdk-nag AwsSolutions + Serverless on the DSQL stacks: %s', (_name, props) => {
  it('has no unacknowledged error or warning in either region, and a specific reason for every acknowledgment', { timeout: 60_000 }, () => {
    const { primary, secondary } = buildTasksStacks(props);
    for (const stack of [primary, secondary]) {
      const list = findings(stack);
      expect(list, showFindings(list)).toEqual([]);
      const acks = acknowledgments(stack);
      expect(acks.length).toBeGreaterThan(0);
      for (const ack of acks) {
        expect(ack.reason.length, `${ack.id} at ${ack.path}`).toBeGreaterThanOrEqual(60);
        expect(ack.reason, `${ack.id} at ${ack.path}`).not.toMatch(/^(n\/?a|todo|tbd|ok|suppress(ed)?|ignore(d)?|not needed)\b/i);
        expect(ack.id).toMatch(/^(AwsSolutions|Serverless)-[A-Za-z0-9]+(\[[^\]]+\])?$/);
      }
    }
  });
});

describe('acknowledgments in the DSQL stacks are not stale', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('each one silences a finding that exists without it', { timeout: 60_000 }, () => {
    const variants = [VARIANTS['first deployment (unpeered, authorizer none, dev)'] ?? {}, VARIANTS['authorizer jwt, alert email, prod'] ?? {}];
    const recorded = variants.flatMap((props) => {
      const { primary, secondary } = buildTasksStacks(props);
      return [...acknowledgments(primary), ...acknowledgments(secondary)];
    });
    vi.spyOn(Validations.prototype, 'acknowledge').mockImplementation(() => undefined);
    const raw = variants.flatMap((props) => {
      const { primary, secondary } = buildTasksStacks(props);
      return [...findings(primary), ...findings(secondary)];
    });
    // What is acknowledged, and why: the rule ids, one line each.
    expect([...new Set(recorded.map((a) => a.id))].sort()).toEqual([
      'AwsSolutions-APIG4',
      'AwsSolutions-IAM5[Resource::*]',
      'AwsSolutions-SQS3',
      'Serverless-LambdaDLQ',
      'Serverless-SNSRedrivePolicy',
      'Serverless-SQSRedrivePolicy',
    ]);
    for (const ack of recorded) expect(silencesSome(ack, raw), `${ack.id} at ${ack.path} matches no finding`).toBe(true);
  });

  it('acknowledges Serverless-LambdaDLQ only on the migrate function: the task API function has a real DLQ', () => {
    const { primary } = buildTasksStacks(PEERED);
    const dlqAcks = acknowledgments(primary).filter((a) => a.id === 'Serverless-LambdaDLQ');
    expect(dlqAcks.map((a) => a.path)).toEqual([primary.api.migrator.node.path]);
  });
});

describe('`cdk synth -c tasks=true` (infra/app.ts)', () => {
  const root = fileURLToPath(new URL('../..', import.meta.url));

  it('synthesizes the Spool stack and both regional DSQL stacks offline, with the cdk-nag plugins passing', { timeout: 180_000 }, () => {
    const outdir = mkdtempSync(join(tmpdir(), 'spool-tasks-synth-'));
    try {
      const context = { ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [], '@aws-cdk/core:validateAgainstDefaultRules': false, tasks: 'true' };
      const env: NodeJS.ProcessEnv = { ...process.env, CDK_CONTEXT_JSON: JSON.stringify(context), CDK_OUTDIR: outdir };
      delete env['CDK_DEFAULT_ACCOUNT'];
      delete env['AWS_ACCESS_KEY_ID'];
      const run = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'infra/app.ts')], { cwd: root, env, encoding: 'utf8' });
      expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0);
      expect(readdirSync(outdir).filter((f) => f.endsWith('.template.json')).sort()).toEqual([
        'spool-dev-tasks-us-east-1.template.json',
        'spool-dev-tasks-us-east-2.template.json',
        'spool-dev.template.json',
      ]);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });

  it('fails synthesis on a cdk-nag finding in a DSQL stack (the plugins see these stacks)', { timeout: 60_000 }, () => {
    const { app, primary } = buildTasksStacks(PEERED);
    primary.api.handler.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['dsql:*'], resources: ['*'] }));
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
    expect(() => app.synth()).toThrow(/AwsSolutions-IAM5|Validation failed/);
  });
});
