import { Stack, Validations } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { SpoolStackProps } from '../../infra/spool-stack.js';
import { acknowledgments, findings, showFindings as show, silencesSome } from './support/nag.js';
import { buildSpoolStack } from './support/spool-app.js';

/** The parameter combinations whose templates differ in what cdk-nag checks. */
const VARIANTS: Record<string, SpoolStackProps> = {
  'defaults (authorizer none, dev)': {},
  'authorizer iam': { authorizer: 'iam' },
  'authorizer jwt, alert email, prod': {
    authorizer: 'jwt',
    jwtIssuer: 'https://issuer.example.com',
    jwtAudience: ['spool-api'],
    alertEmail: 'ops@example.com',
    environment: 'prod',
  },
};

describe.each(Object.entries(VARIANTS))('cdk-nag AwsSolutions + Serverless: %s', (_name, props) => {
  let stack: Stack;
  beforeAll(() => {
    stack = buildSpoolStack(props).stack;
  }, 60_000);

  it('has no unacknowledged error or warning', () => {
    const list = findings(stack);
    expect(list, show(list)).toEqual([]);
  });

  it('gives every acknowledgment a specific reason', () => {
    const list = acknowledgments(stack);
    expect(list.length).toBeGreaterThan(0);
    for (const ack of list) {
      // Specific: names the rule's subject in a sentence, not "n/a" or "suppressed".
      expect(ack.reason.length, `${ack.id} at ${ack.path}`).toBeGreaterThanOrEqual(60);
      expect(ack.reason, `${ack.id} at ${ack.path}`).not.toMatch(/^(n\/?a|todo|tbd|ok|suppress(ed)?|ignore(d)?|not needed)\b/i);
      // A rule id of a pack we run, optionally narrowed to one finding (`IAM5[Resource::...]`).
      expect(ack.id).toMatch(/^(AwsSolutions|Serverless)-[A-Za-z0-9]+(\[[^\]]+\])?$/);
    }
  });
});

describe('acknowledgments are not stale', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('each one silences a finding that exists without it', { timeout: 60_000 }, () => {
    const props = VARIANTS['authorizer jwt, alert email, prod'] ?? {};
    const recorded = [
      ...acknowledgments(buildSpoolStack({}).stack),
      ...acknowledgments(buildSpoolStack(props).stack),
    ];
    // Build the same stacks with acknowledge() disabled and collect what the packs then report.
    vi.spyOn(Validations.prototype, 'acknowledge').mockImplementation(() => undefined);
    const raw = [...findings(buildSpoolStack({}).stack), ...findings(buildSpoolStack(props).stack)];
    expect(raw.length).toBeGreaterThan(0);
    for (const ack of recorded) {
      expect(silencesSome(ack, raw), `${ack.id} at ${ack.path} matches no finding`).toBe(true);
    }
  });
});

describe('the dead-letter reconciler', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('adds one acknowledgment of its own (no function DLQ), which silences a real finding', { timeout: 60_000 }, () => {
    const own = acknowledgments(buildSpoolStack({}).stack).filter((a) => a.path.startsWith('spool-test/DeadLetterReconciler'));
    // AwsSolutions-IAM5[Resource::*] is every SpoolFunction's (X-Ray); the schedule and its role need none.
    expect(own.map((a) => `${a.id} at ${a.path}`).sort()).toEqual([
      'AwsSolutions-IAM5[Resource::*] at spool-test/DeadLetterReconciler/Reconciler',
      'Serverless-LambdaDLQ at spool-test/DeadLetterReconciler/Reconciler',
    ]);
    vi.spyOn(Validations.prototype, 'acknowledge').mockImplementation(() => undefined);
    const raw = findings(buildSpoolStack({}).stack).filter((f) => f.path.startsWith('spool-test/DeadLetterReconciler/'));
    expect(raw.map((f) => f.rule).sort()).toEqual(['AwsSolutions-IAM5[Resource::*]', 'Serverless-LambdaDLQ']);
    for (const ack of own) expect(silencesSome(ack, raw), ack.id).toBe(true);
  });
});

describe('the checks are wired the way `cdk synth` runs them', () => {
  it('detects a violation (the harness is not vacuous)', () => {
    const { app } = buildSpoolStack({});
    const bad = new Stack(app, 'bad');
    new sqs.Queue(bad, 'Unencrypted', { encryption: sqs.QueueEncryption.UNENCRYPTED });
    const rules = findings(bad).map((f) => f.rule);
    expect(rules).toEqual(expect.arrayContaining(['AwsSolutions-SQS2', 'AwsSolutions-SQS3', 'AwsSolutions-SQS4']));
  });

  it('fails app.synth() on a finding when registered as Validations plugins (as infra/app.ts does)', { timeout: 60_000 }, () => {
    const { app } = buildSpoolStack({});
    new sqs.Queue(new Stack(app, 'bad'), 'Unencrypted', { encryption: sqs.QueueEncryption.UNENCRYPTED });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
    expect(() => app.synth()).toThrow(/AwsSolutions-SQS2|Validation failed/);
  });

  it('lets app.synth() pass with the plugins registered on the Spool stack alone', { timeout: 60_000 }, () => {
    const { app } = buildSpoolStack({});
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
    expect(() => app.synth()).not.toThrow();
  });
});
