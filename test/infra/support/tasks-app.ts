/**
 * Builds the users and tasks stacks (one per region) for the infrastructure tests the way
 * `cdk synth -c tasks=true` does: same feature flags (cdk.json context), same factory.
 */
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { TasksSettingsInput } from '../../../infra/settings.js';
import { createTasksStacks, type TasksRegionStack } from '../../../infra/tasks-region-stack.js';
import type { BuildOptions } from './spool-app.js';
import { cdkJsonContext } from './spool-app.js';

/** Identifiers as the first deployment's `ClusterIdentifier` outputs give them. */
export const PRIMARY_CLUSTER_ID = 'abcdefghijklmnopqrstuvwxyz';
export const SECONDARY_CLUSTER_ID = 'zyxwvutsrqponmlkjihgfedcba';

export interface BuiltTasksStacks {
  readonly app: App;
  readonly primary: TasksRegionStack;
  readonly secondary: TasksRegionStack;
}

/** Creates an App with cdk.json's context and the two regional stacks; nothing is synthesized yet. */
export function buildTasksStacks(props: TasksSettingsInput = {}, options: Omit<BuildOptions, 'stackId'> = {}): BuiltTasksStacks {
  const context = {
    ...cdkJsonContext(),
    ...(options.bundle === true ? {} : { 'aws:cdk:bundling-stacks': [] }),
    ...(options.cdkDefaultRules === true ? {} : { '@aws-cdk/core:validateAgainstDefaultRules': false }),
  };
  const app = new App({ context, ...(options.outdir === undefined ? {} : { outdir: options.outdir }) });
  const [primary, secondary] = createTasksStacks(app, props, { account: '123456789012' });
  if (primary === undefined || secondary === undefined) throw new Error('expected two regional stacks');
  return { app, primary, secondary };
}

/** Builds the stacks and returns both templates for assertions. */
export function synthTasksTemplates(
  props: TasksSettingsInput = {},
  options: Omit<BuildOptions, 'stackId'> = {},
): BuiltTasksStacks & { primaryTemplate: Template; secondaryTemplate: Template } {
  const built = buildTasksStacks(props, options);
  return { ...built, primaryTemplate: Template.fromStack(built.primary), secondaryTemplate: Template.fromStack(built.secondary) };
}

/** The settings of the second deployment: the clusters named, to peer them. */
export const PEERED: TasksSettingsInput = { primaryClusterId: PRIMARY_CLUSTER_ID, secondaryClusterId: SECONDARY_CLUSTER_ID };
