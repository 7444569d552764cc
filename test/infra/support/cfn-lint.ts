import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Warnings accepted with a reason. W3005: CDK adds `DependsOn: <Role>` to each function next
 * to its `GetAtt <Role>.Arn`; redundant, harmless, and not ours to remove.
 */
const ACCEPTED_WARNINGS = new Set(['W3005']);

/** The CloudFormation templates `app.synth()` wrote to `outdir`. */
export function templatesIn(outdir: string): string[] {
  return readdirSync(outdir)
    .filter((f) => f.endsWith('.template.json'))
    .map((f) => join(outdir, f));
}

/** Violations of CDK's built-in "CloudFormation Validate" rules in `outdir` (the report is written only when some plugin reports something). */
export function cdkValidateViolations(outdir: string): unknown[] {
  const reportFile = join(outdir, 'validation-report.json');
  if (!existsSync(reportFile)) return [];
  const report = JSON.parse(readFileSync(reportFile, 'utf8')) as { pluginReports: Array<{ pluginName: string; violations: unknown[] }> };
  return report.pluginReports.filter((r) => r.pluginName === 'CloudFormation Validate').flatMap((r) => r.violations);
}

/** What AWS's cfn-lint CLI (the Python one) says of `templates`. */
export interface CfnLintOutcome {
  /** Exit code bits: 2 errors, 4 warnings, 8 informational; 1 (or negative) means cfn-lint itself failed. */
  readonly status: number;
  readonly output: string;
  /** Rule ids of every error and of every warning not accepted above. */
  readonly unexpected: string[];
}

/** Runs cfn-lint over `templates`; throws when the CLI cannot be run at all. */
export function cfnLint(templates: readonly string[]): CfnLintOutcome {
  const run = spawnSync('cfn-lint', ['--format', 'parseable', '--', ...templates], { encoding: 'utf8' });
  if (run.error !== undefined) {
    const hint = (run.error as NodeJS.ErrnoException).code === 'ENOENT' ? ' (not on PATH: install it with `pip install cfn-lint`)' : '';
    throw new Error(`cannot run the cfn-lint CLI${hint}: ${run.error.message}`);
  }
  const output = `${run.stdout}${run.stderr}`;
  // parseable lines: file:line:col:endLine:endCol:RULE:message
  const rules = output
    .split('\n')
    .map((line) => /:(\d+):(\d+):(\d+):(\d+):([EWI]\d+):/.exec(line)?.[5])
    .filter((rule): rule is string => rule !== undefined);
  const unexpected = rules.filter((rule) => rule.startsWith('E') || (rule.startsWith('W') && !ACCEPTED_WARNINGS.has(rule)));
  return { status: run.status ?? -1, output, unexpected };
}
