import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cdkValidateViolations, cfnLint, templatesIn } from './support/cfn-lint.js';
import type { TasksSettingsInput } from '../../infra/settings.js';
import { buildTasksStacks, PEERED } from './support/tasks-app.js';

/**
 * AWS's cfn-lint (the Python CLI, which knows AWS::DSQL::Cluster) over the DSQL stacks'
 * templates, both regions, for the variants that change the template: the first (unpeered)
 * deployment, and the peered one with every optional feature on.
 */
const VARIANTS: Record<string, TasksSettingsInput> = {
  unpeered: {},
  'peered-jwt-email-prod': {
    ...PEERED,
    authorizer: 'jwt',
    jwtIssuer: 'https://issuer.example.com',
    jwtAudience: ['spool-api'],
    alertEmail: 'ops@example.com',
    environment: 'prod',
    clusterDeletionProtection: false,
    lambdaTimeout: 120,
  },
};

const SYNTH_TIMEOUT_MS = 120_000;

let workDir: string;
let templates: string[];

beforeAll(() => {
  workDir = mkdtempSync(join(tmpdir(), 'spool-tasks-cfn-lint-'));
  templates = Object.entries(VARIANTS).flatMap(([name, props]) => {
    const outdir = join(workDir, name);
    buildTasksStacks(props, { outdir, cdkDefaultRules: true }).app.synth();
    return templatesIn(outdir);
  });
}, SYNTH_TIMEOUT_MS);

afterAll(() => {
  rmSync(workDir, { recursive: true, force: true });
});

describe('the DSQL stacks against CDK\'s built-in CloudFormation Validate rules', () => {
  it('report no violation', () => {
    for (const name of Object.keys(VARIANTS)) expect(cdkValidateViolations(join(workDir, name)), name).toEqual([]);
  });
});

describe('cfn-lint on the DSQL stacks', () => {
  it('finds no errors and no unexpected warnings in either region\'s template', () => {
    expect(templates).toHaveLength(2 * Object.keys(VARIANTS).length);
    const { status, output, unexpected } = cfnLint(templates);
    expect(status === 1 || status < 0, `cfn-lint failed to run (exit ${status}):\n${output}`).toBe(false);
    expect(status & 2, `cfn-lint reported errors (exit ${status}):\n${output}`).toBe(0);
    expect(unexpected, output).toEqual([]);
  }, SYNTH_TIMEOUT_MS);
});
