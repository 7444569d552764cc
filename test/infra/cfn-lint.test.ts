import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cdkValidateViolations, cfnLint, templatesIn } from './support/cfn-lint.js';
import type { SpoolStackProps } from '../../infra/spool-stack.js';
import { buildSpoolStack } from './support/spool-app.js';

/**
 * AWS's own CloudFormation linter (the Python `cfn-lint` CLI, not the npm package of that
 * name) over the templates `cdk synth` produces, for the parameter combinations that change
 * the template.
 */
const VARIANTS: Record<string, SpoolStackProps> = {
  defaults: {},
  iam: { authorizer: 'iam' },
  'jwt-email-prod': {
    authorizer: 'jwt',
    jwtIssuer: 'https://issuer.example.com',
    jwtAudience: ['spool-api'],
    alertEmail: 'ops@example.com',
    environment: 'prod',
    lambdaTimeout: 120,
  },
};

// Synthesis and cfn-lint take seconds each; far more on a loaded machine than vitest's default.
const SYNTH_TIMEOUT_MS = 120_000;

let workDir: string;
let templates: string[];

beforeAll(() => {
  workDir = mkdtempSync(join(tmpdir(), 'spool-cfn-lint-'));
  templates = Object.entries(VARIANTS).flatMap(([name, props]) => {
    const outdir = join(workDir, name);
    buildSpoolStack(props, { outdir, stackId: `spool-${name}`, cdkDefaultRules: true }).app.synth();
    return templatesIn(outdir);
  });
}, SYNTH_TIMEOUT_MS);

afterAll(() => {
  rmSync(workDir, { recursive: true, force: true });
});

describe('CDK built-in CloudFormation Validate rules (run by every cdk synth)', () => {
  it('report no violation', () => {
    for (const name of Object.keys(VARIANTS)) expect(cdkValidateViolations(join(workDir, name)), name).toEqual([]);
  });
});

describe('cfn-lint', () => {
  it('finds no errors in any synthesized template', () => {
    expect(templates).toHaveLength(Object.keys(VARIANTS).length);
    const { status, output, unexpected } = cfnLint(templates);
    expect(status === 1 || status < 0, `cfn-lint failed to run (exit ${status}):\n${output}`).toBe(false);
    expect(status & 2, `cfn-lint reported errors (exit ${status}):\n${output}`).toBe(0);
    expect(unexpected, output).toEqual([]);
  }, SYNTH_TIMEOUT_MS);
});
