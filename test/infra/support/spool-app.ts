/**
 * Builds Spool stacks for the infrastructure tests the way `cdk synth` does: same feature
 * flags (cdk.json context), same stack class. Bundling is optional because only the test
 * that checks the bundles needs it; skipping it makes a synthesis take ~0.2 s instead of seconds.
 */
import { readFileSync } from 'node:fs';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { type SpoolStackProps, SpoolStack } from '../../../infra/spool-stack.js';

const CDK_JSON = new URL('../../../cdk.json', import.meta.url);

/** The context of cdk.json: the feature flags `cdk synth` applies. */
export function cdkJsonContext(): Record<string, unknown> {
  const parsed = JSON.parse(readFileSync(CDK_JSON, 'utf8')) as { context?: Record<string, unknown> };
  return parsed.context ?? {};
}

export interface BuildOptions {
  /** Run esbuild for the four functions (default false: assets are left unbundled). */
  readonly bundle?: boolean;
  /** Cloud assembly directory (default: a fresh temporary directory). */
  readonly outdir?: string;
  /** Stack construct id (default `spool-test`). */
  readonly stackId?: string;
  /**
   * Run aws-cdk-lib's built-in CloudFormation Validate rules during synthesis, as `cdk synth`
   * does (feature flag `@aws-cdk/core:validateAgainstDefaultRules`). Default false: starting its
   * WASM engine costs 5-10 s per test process, and only the cfn-lint test needs that parity.
   */
  readonly cdkDefaultRules?: boolean;
}

export interface BuiltStack {
  readonly app: App;
  readonly stack: SpoolStack;
}

/** Creates an App with cdk.json's context and one SpoolStack; nothing is synthesized yet. */
export function buildSpoolStack(props: SpoolStackProps = {}, options: BuildOptions = {}): BuiltStack {
  const context = {
    ...cdkJsonContext(),
    ...(options.bundle === true ? {} : { 'aws:cdk:bundling-stacks': [] }),
    ...(options.cdkDefaultRules === true ? {} : { '@aws-cdk/core:validateAgainstDefaultRules': false }),
  };
  const app = new App({ context, ...(options.outdir === undefined ? {} : { outdir: options.outdir }) });
  const stack = new SpoolStack(app, options.stackId ?? 'spool-test', {
    env: { account: '123456789012', region: 'us-east-1' },
    ...props,
  });
  return { app, stack };
}

/** Builds and synthesizes a stack, returning its template for assertions. */
export function synthSpoolTemplate(props: SpoolStackProps = {}, options: BuildOptions = {}): BuiltStack & { template: Template } {
  const built = buildSpoolStack(props, options);
  return { ...built, template: Template.fromStack(built.stack) };
}

/** The logical id CloudFormation will use for a construct's resource (L2 or L1). */
export function logicalIdOf(construct: IConstruct): string {
  const cfn = construct.node.defaultChild ?? construct;
  return Stack.of(construct).getLogicalId(cfn as Parameters<Stack['getLogicalId']>[0]);
}
