/**
 * Typed access to a synthesized CloudFormation template, and a walker over every policy
 * statement in it (IAM policies, key policies, queue/topic/bucket policies, trust policies).
 */
import type { Template } from 'aws-cdk-lib/assertions';

export interface CfnResourceJson {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly Metadata?: Record<string, unknown>;
  readonly DeletionPolicy?: string;
  readonly UpdateReplacePolicy?: string;
}

export interface CfnTemplateJson {
  readonly Resources: Record<string, CfnResourceJson>;
  readonly Outputs?: Record<string, { readonly Value: unknown; readonly Description?: string }>;
}

export function templateJson(template: Template): CfnTemplateJson {
  return template.toJSON() as CfnTemplateJson;
}

/** Resources of one type, by logical id. */
export function resourcesOfType(template: Template, type: string): Array<[string, CfnResourceJson]> {
  return Object.entries(templateJson(template).Resources).filter(([, r]) => r.Type === type);
}

export interface PolicyStatementJson {
  readonly Sid?: string;
  readonly Effect: 'Allow' | 'Deny';
  readonly Action?: string | string[];
  readonly NotAction?: string | string[];
  readonly Resource?: unknown;
  readonly Principal?: unknown;
  readonly Condition?: Record<string, Record<string, unknown>>;
}

export interface FoundStatement {
  /** Logical id of the resource that holds the statement. */
  readonly logicalId: string;
  readonly resourceType: string;
  /** JSON path of the policy document inside the resource. */
  readonly path: string;
  readonly statement: PolicyStatementJson;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Every policy statement anywhere in the template: any object with a `Statement` array. */
export function allPolicyStatements(template: Template): FoundStatement[] {
  const found: FoundStatement[] = [];
  const visit = (value: unknown, logicalId: string, resourceType: string, path: string): void => {
    if (Array.isArray(value)) {
      value.forEach((v, i) => visit(v, logicalId, resourceType, `${path}[${i}]`));
      return;
    }
    if (!isRecord(value)) return;
    const statements = value['Statement'];
    if (Array.isArray(statements)) {
      for (const statement of statements) {
        if (isRecord(statement)) found.push({ logicalId, resourceType, path, statement: statement as unknown as PolicyStatementJson });
      }
    }
    for (const [key, child] of Object.entries(value)) visit(child, logicalId, resourceType, `${path}.${key}`);
  };
  for (const [logicalId, resource] of Object.entries(templateJson(template).Resources)) {
    visit(resource.Properties, logicalId, resource.Type, 'Properties');
  }
  return found;
}

export const asList = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/**
 * A stable name for a statement resource: `*`, a logical id (`Ref`/`GetAtt ... Arn`), or a
 * logical id with a suffix (`Bucket/*`, `Table/index/gsi1`).
 */
export function resourceName(resource: unknown): string {
  if (typeof resource === 'string') return resource;
  if (isRecord(resource)) {
    const ref = resource['Ref'];
    if (typeof ref === 'string') return ref;
    const getAtt = resource['Fn::GetAtt'];
    if (Array.isArray(getAtt) && typeof getAtt[0] === 'string') return getAtt[0];
    const join = resource['Fn::Join'];
    if (Array.isArray(join) && Array.isArray(join[1])) return (join[1] as unknown[]).map(resourceName).join('');
  }
  return JSON.stringify(resource);
}
