/**
 * cdk-nag as the infrastructure tests run it: both packs the CDK app registers, applied directly
 * to a construct tree, and the acknowledgments (Validations.of(x).acknowledge) recorded in it.
 */
import { Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';

export interface Finding {
  readonly rule: string;
  readonly severity: string;
  readonly path: string;
}

/** Runs both packs directly on a construct tree (cdk-nag's documented entry point for tests). */
export function findings(scope: IConstruct): Finding[] {
  return [new AwsSolutionsChecks(), new ServerlessChecks()].flatMap((pack) =>
    pack.validateScope(scope).violations.flatMap((v) =>
      v.violatingResources.map((r) => ({ rule: v.ruleName, severity: v.severity ?? 'error', path: r.constructPath ?? '(unknown)' })),
    ),
  );
}

export interface Acknowledgment {
  readonly path: string;
  readonly id: string;
  readonly reason: string;
}

/** Every acknowledgment recorded in a construct tree (Validations.of(x).acknowledge). */
export function acknowledgments(scope: IConstruct): Acknowledgment[] {
  return scope.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((m) =>
        Object.entries(m.data as Record<string, string>).map(([qualifiedId, reason]) => ({
          path: construct.node.path,
          id: qualifiedId.replace(/^annotation::/i, ''),
          reason,
        })),
      ),
  );
}

export const showFindings = (list: readonly Finding[]) => list.map((f) => `${f.severity} ${f.rule} at ${f.path}`).join('\n');

/** Whether an acknowledgment silences one of `raw` (found with acknowledge() disabled): same rule, at or under its construct. */
export function silencesSome(ack: Acknowledgment, raw: readonly Finding[]): boolean {
  return raw.some((f) => f.rule === ack.id && (f.path === ack.path || f.path.startsWith(`${ack.path}/`)));
}
