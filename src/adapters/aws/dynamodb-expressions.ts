import { ValidationError } from '../../errors.js';
import { ATTRIBUTE_NAME, type AttributeValue, type Condition } from '../../ports/table.js';

// DynamoDB's limit on the operands of IN.
const MAX_IN_VALUES = 100;
// `in` with no values can never hold; DynamoDB has no literal false, and rejects an empty IN.
const NEVER = 'attribute_exists(pk) AND attribute_not_exists(pk)';

/**
 * Builds DynamoDB condition and update expressions. Every attribute name and value goes
 * through a placeholder (`#n0`, `:v0`), so neither reserved words nor user data can change
 * the meaning of an expression; names are also checked against the port's ATTRIBUTE_NAME.
 */
export class ExpressionBuilder {
  private readonly names: Record<string, string> = {};
  private readonly values: Record<string, AttributeValue> = {};
  private nameCount = 0;
  private valueCount = 0;

  /** The AND of the conditions, or undefined for none. */
  conditions(conditions: readonly Condition[]): string | undefined {
    if (conditions.length === 0) return undefined;
    return conditions.map((c) => `(${this.condition(c)})`).join(' AND ');
  }

  /** `SET` for defined values, `REMOVE` for undefined ones; undefined when there is nothing to change. */
  update(changes: Readonly<Record<string, AttributeValue | undefined>>): string | undefined {
    const set: string[] = [];
    const remove: string[] = [];
    for (const [attribute, value] of Object.entries(changes)) {
      if (value === undefined) remove.push(this.name(attribute));
      else set.push(`${this.name(attribute)} = ${this.value(value)}`);
    }
    const clauses = [set.length > 0 ? `SET ${set.join(', ')}` : '', remove.length > 0 ? `REMOVE ${remove.join(', ')}` : ''];
    return clauses.filter((c) => c !== '').join(' ') || undefined;
  }

  /** The placeholders used so far, leaving out empty maps, which DynamoDB rejects. */
  parameters(): { ExpressionAttributeNames?: Record<string, string>; ExpressionAttributeValues?: Record<string, AttributeValue> } {
    return {
      ...(this.nameCount > 0 ? { ExpressionAttributeNames: this.names } : {}),
      ...(this.valueCount > 0 ? { ExpressionAttributeValues: this.values } : {}),
    };
  }

  private condition(c: Condition): string {
    switch (c.kind) {
      case 'exists':
        return 'attribute_exists(pk)';
      case 'notExists':
        return 'attribute_not_exists(pk)';
      case 'equals':
        return `${this.name(c.attribute)} = ${this.value(c.value)}`;
      case 'in':
        if (c.values.length > MAX_IN_VALUES) throw new ValidationError(`an "in" condition takes at most ${MAX_IN_VALUES} values`);
        if (c.values.length === 0) return NEVER;
        return `${this.name(c.attribute)} IN (${c.values.map((v) => this.value(v)).join(', ')})`;
    }
  }

  private name(attribute: string): string {
    if (!ATTRIBUTE_NAME.test(attribute)) throw new ValidationError(`invalid attribute name ${JSON.stringify(attribute.slice(0, 80))}`);
    const placeholder = `#n${this.nameCount++}`;
    this.names[placeholder] = attribute;
    return placeholder;
  }

  private value(value: AttributeValue): string {
    const placeholder = `:v${this.valueCount++}`;
    this.values[placeholder] = value;
    return placeholder;
  }
}
