import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

/**
 * Warnings accepted with a reason. W3005: CDK adds `DependsOn: <Role>` to each function next
 * to its `GetAtt <Role>.Arn`; redundant, harmless, and not ours to remove.
 */
const ACCEPTED_WARNINGS = new Set(['W3005']);

// Synthesis and cfn-lint take seconds each; far more on a loaded machine than vitest's default.
const SYNTH_TIMEOUT_MS = 120_000;

let workDir: string;
let templates: string[];

beforeAll(() => {
  workDir = mkdtempSync(join(tmpdir(), 'spool-cfn-lint-'));
  templates = Object.entries(VARIANTS).flatMap(([name, props]) => {
    const outdir = join(workDir, name);
    buildSpoolStack(props, { outdir, stackId: `spool-${name}`, cdkDefaultRules: true }).app.synth();
    return readdirSync(outdir)
      .filter((f) => f.endsWith('.template.json'))
      .map((f) => join(outdir, f));
  });
}, SYNTH_TIMEOUT_MS);

afterAll(() => {
  rmSync(workDir, { recursive: true, force: true });
});

describe('CDK built-in CloudFormation Validate rules (run by every cdk synth)', () => {
  it('report no violation', () => {
    for (const name of Object.keys(VARIANTS)) {
      const reportFile = join(workDir, name, 'validation-report.json');
      if (!existsSync(reportFile)) continue; // written only when some plugin reports something
      const report = JSON.parse(readFileSync(reportFile, 'utf8')) as { pluginReports: Array<{ pluginName: string; violations: unknown[] }> };
      const cfnValidate = report.pluginReports.filter((r) => r.pluginName === 'CloudFormation Validate');
      expect(cfnValidate.flatMap((r) => r.violations), `${name}: ${reportFile}`).toEqual([]);
    }
  });
});

describe('cfn-lint', () => {
  it('finds no errors in any synthesized template', () => {
    expect(templates).toHaveLength(Object.keys(VARIANTS).length);
    const run = spawnSync('cfn-lint', ['--format', 'parseable', '--', ...templates], { encoding: 'utf8' });
    if (run.error !== undefined) {
      const hint = (run.error as NodeJS.ErrnoException).code === 'ENOENT' ? ' (not on PATH: install it with `pip install cfn-lint`)' : '';
      throw new Error(`cannot run the cfn-lint CLI${hint}: ${run.error.message}`);
    }
    const output = `${run.stdout}${run.stderr}`;
    // Exit code bits: 2 errors, 4 warnings, 8 informational; 1 means cfn-lint itself failed.
    const status = run.status ?? -1;
    expect(status === 1 || status < 0, `cfn-lint failed to run (exit ${status}):\n${output}`).toBe(false);
    expect(status & 2, `cfn-lint reported errors (exit ${status}):\n${output}`).toBe(0);

    // parseable lines: file:line:col:endLine:endCol:RULE:message
    const rules = output
      .split('\n')
      .map((line) => /:(\d+):(\d+):(\d+):(\d+):([EWI]\d+):/.exec(line)?.[5])
      .filter((rule): rule is string => rule !== undefined);
    const unexpected = rules.filter((rule) => rule.startsWith('E') || (rule.startsWith('W') && !ACCEPTED_WARNINGS.has(rule)));
    expect(unexpected, output).toEqual([]);
  }, SYNTH_TIMEOUT_MS);
});
