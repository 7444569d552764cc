import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

/** Accepted warnings, as in cfn-lint.test.ts: W3005 is CDK's redundant `DependsOn: <Role>` next to `GetAtt <Role>.Arn`. */
const ACCEPTED_WARNINGS = new Set(['W3005']);
const SYNTH_TIMEOUT_MS = 120_000;

let workDir: string;
let templates: string[];

beforeAll(() => {
  workDir = mkdtempSync(join(tmpdir(), 'spool-tasks-cfn-lint-'));
  templates = Object.entries(VARIANTS).flatMap(([name, props]) => {
    const outdir = join(workDir, name);
    buildTasksStacks(props, { outdir, cdkDefaultRules: true }).app.synth();
    return readdirSync(outdir)
      .filter((f) => f.endsWith('.template.json'))
      .map((f) => join(outdir, f));
  });
}, SYNTH_TIMEOUT_MS);

afterAll(() => {
  rmSync(workDir, { recursive: true, force: true });
});

describe('the DSQL stacks against CDK\'s built-in CloudFormation Validate rules', () => {
  it('report no violation', () => {
    for (const name of Object.keys(VARIANTS)) {
      const reportFile = join(workDir, name, 'validation-report.json');
      if (!existsSync(reportFile)) continue;
      const report = JSON.parse(readFileSync(reportFile, 'utf8')) as { pluginReports: Array<{ pluginName: string; violations: unknown[] }> };
      expect(report.pluginReports.filter((r) => r.pluginName === 'CloudFormation Validate').flatMap((r) => r.violations), reportFile).toEqual([]);
    }
  });
});

describe('cfn-lint on the DSQL stacks', () => {
  it('finds no errors and no unexpected warnings in either region\'s template', () => {
    expect(templates).toHaveLength(2 * Object.keys(VARIANTS).length);
    const run = spawnSync('cfn-lint', ['--format', 'parseable', '--', ...templates], { encoding: 'utf8' });
    if (run.error !== undefined) throw new Error(`cannot run the cfn-lint CLI: ${run.error.message}`);
    const output = `${run.stdout}${run.stderr}`;
    const status = run.status ?? -1;
    expect(status === 1 || status < 0, `cfn-lint failed to run (exit ${status}):\n${output}`).toBe(false);
    expect(status & 2, `cfn-lint reported errors (exit ${status}):\n${output}`).toBe(0);
    const rules = output
      .split('\n')
      .map((line) => /:(\d+):(\d+):(\d+):(\d+):([EWI]\d+):/.exec(line)?.[5])
      .filter((rule): rule is string => rule !== undefined);
    expect(rules.filter((rule) => rule.startsWith('E') || (rule.startsWith('W') && !ACCEPTED_WARNINGS.has(rule))), output).toEqual([]);
  }, SYNTH_TIMEOUT_MS);
});
