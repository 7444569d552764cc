import type { AttributeValue, Condition, Item } from './table.js';

/** Evaluates table write conditions against the current item (undefined = no item), as DynamoDB would. */
export function conditionsHold(current: Item | undefined, conditions: readonly Condition[]): boolean {
  return conditions.every((c) => {
    switch (c.kind) {
      case 'exists':
        return current !== undefined;
      case 'notExists':
        return current === undefined;
      case 'equals':
        return current !== undefined && sameValue(current[c.attribute], c.value);
      case 'in':
        return current !== undefined && c.values.some((v) => sameValue(current[c.attribute], v));
    }
  });
}

function sameValue(a: AttributeValue | undefined, b: AttributeValue): boolean {
  return a !== undefined && JSON.stringify(a) === JSON.stringify(b);
}
