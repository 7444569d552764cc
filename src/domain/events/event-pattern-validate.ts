/**
 * Validation half of the EventBridge event-pattern engine: a compiler that validates a pattern the
 * way EventBridge's PutRule/TestEventPattern do and turns it into branches of field matchers. It
 * ports the behaviour of aws/event-ruler's `JsonRuleCompiler` (the engine behind EventBridge),
 * including its error messages.
 */
import { ValidationError } from '../../errors.js';
import type { JsonValue } from './event-pattern.js';
import { ipBytes, ipHex, ipToHex, isComparableNumber } from './event-pattern-match.js';

/**
 * One compiled value test of a pattern field (one element of a field's array in the pattern).
 *
 * @example
 * const m: ValueMatcher = { kind: 'prefix', value: 'us-', ignoreCase: false };
 */
export type ValueMatcher =
  | { readonly kind: 'exact'; readonly value: string }
  | { readonly kind: 'literal'; readonly text: string }
  | { readonly kind: 'numeric-equals'; readonly value: number }
  | { readonly kind: 'numeric-range'; readonly lower?: NumericBound; readonly upper?: NumericBound }
  | { readonly kind: 'ip-range'; readonly bottom: string; readonly top: string; readonly openBottom: boolean; readonly openTop: boolean }
  | { readonly kind: 'prefix' | 'suffix'; readonly value: string; readonly ignoreCase: boolean }
  | { readonly kind: 'equals-ignore-case' | 'wildcard'; readonly value: string }
  | { readonly kind: 'exists'; readonly value: boolean }
  | { readonly kind: 'anything-but'; readonly of: 'strings' | 'prefix' | 'suffix' | 'equals-ignore-case' | 'wildcard'; readonly values: readonly string[] }
  | { readonly kind: 'anything-but'; readonly of: 'numbers'; readonly values: readonly number[] };

/**
 * One side of a `numeric` range.
 *
 * @example
 * const lower: NumericBound = { value: 0, inclusive: false }; // "> 0"
 */
export interface NumericBound {
  readonly value: number;
  readonly inclusive: boolean;
}

/**
 * A leaf of the pattern: the dot-joined path of an event field and the tests any one of which must pass.
 *
 * @example
 * const f: PatternField = { path: 'detail.state', matchers: [{ kind: 'exact', value: 'running' }] };
 */
export interface PatternField {
  readonly path: string;
  readonly matchers: readonly ValueMatcher[];
}

/**
 * One alternative of a pattern after `$or` expansion (a Ruler "sub-rule"): every field must match.
 * Fields are sorted by path, the order in which EventBridge evaluates them.
 *
 * @example
 * const b: PatternBranch = [{ path: 'source', matchers: [{ kind: 'exact', value: 'aws.ec2' }] }];
 */
export type PatternBranch = readonly PatternField[];

/**
 * A validated, compiled event pattern, as returned by `parseEventPattern`.
 *
 * @example
 * const p: EventPattern = parseEventPattern('{"source":["aws.ec2"]}');
 * p.branches.length; // 1
 */
export interface EventPattern {
  readonly branches: readonly PatternBranch[];
}

/**
 * EventBridge rejects a pattern whose `$or`s expand to more alternatives than this
 * ("Or operator is producing over 1000 rule combinations"; 2^9 passes and 2^10 fails natively, per stackd).
 *
 * @example
 * parseEventPattern(patternWithTenBinaryOrs); // throws: more than MAX_OR_COMBINATIONS branches
 */
export const MAX_OR_COMBINATIONS = 1000;

const REASON_PREFIX = 'Event pattern is not valid. Reason: ';

/**
 * Throws the 400-style error for an invalid pattern, worded like EventBridge's.
 *
 * @example
 * invalidPattern('Empty arrays are not allowed'); // throws ValidationError
 */
export function invalidPattern(reason: string): never {
  throw new ValidationError(REASON_PREFIX + reason, [reason]);
}

function comparable(text: string): number {
  if (!isComparableNumber(text)) invalidPattern(`Cannot compare number : ${text}`);
  return Number(text) + 0; // BigDecimal has no negative zero
}

function cidrMatcher(cidr: string): ValueMatcher {
  const slashed = cidr.split('/');
  while (slashed.length > 0 && slashed[slashed.length - 1] === '') slashed.pop(); // java String.split
  if (slashed.length !== 2) invalidPattern("Malformed CIDR, one '/' required");
  const [address = '', maskText = ''] = slashed;
  const maskNumber = Number(maskText);
  if (!/^[+-]?\d+$/.test(maskText) || maskNumber < -(2 ** 31) || maskNumber > 2 ** 31 - 1) invalidPattern('Malformed CIDR, mask bits must be an integer');
  const mask = maskNumber;
  if (mask < 0) invalidPattern('Malformed CIDR, mask bits must not be negative');
  const bytes = ipBytes(address);
  if (bytes === 'nonstandard') invalidPattern(`Nonstandard IP address: ${address}`);
  if (bytes === 'invalid') invalidPattern(`Invalid IP address: ${address}`);
  // Surprising but native: "/32" and "/128" are rejected (event-ruler CIDR.java; observed in radkawar/stackd testdata/aws/eventbridge/patterns.json).
  if (bytes.length === 4 && mask > 31) invalidPattern('IPv4 mask bits must be < 32');
  if (bytes.length === 16 && mask > 127) invalidPattern('IPv6 mask bits must be < 128');
  let variable = bytes.length * 8 - mask;
  const low = [...bytes];
  const high = [...bytes];
  for (let i = bytes.length - 1; i >= 0 && variable > 0; i--, variable -= 8) {
    const bits = Math.min(8, variable);
    low[i] = (bytes[i] ?? 0) & (0xff << bits) & 0xff;
    high[i] = (bytes[i] ?? 0) | ((1 << bits) - 1);
  }
  return { kind: 'ip-range', bottom: ipHex(low), top: ipHex(high), openBottom: false, openTop: false };
}

/** An exact-match string that is an IP literal matches that address in any spelling (event-ruler `ipToRangeIfPossible`). */
function ipLiteralMatcher(s: string): ValueMatcher | undefined {
  const digits = ipToHex(s);
  if (digits === undefined) return undefined;
  const hexDigits = '0123456789ABCDEF';
  const last = digits[digits.length - 1] ?? '0';
  const body = digits.slice(0, -1);
  if (last === 'F') return { kind: 'ip-range', bottom: body + 'E', top: digits, openBottom: true, openTop: false };
  const next = hexDigits[hexDigits.indexOf(last) + 1] ?? 'F';
  return { kind: 'ip-range', bottom: digits, top: body + next, openBottom: false, openTop: true };
}

// ---------------------------------------------------------------------------------------------
// Wildcards

/** Validates a wildcard value; positions are UTF-8 byte offsets in the quoted value, as EventBridge reports them. */
function checkWildcard(value: string): void {
  const bytes = new TextEncoder().encode(`"${value}"`);
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === 0x2a && bytes[i + 1] === 0x2a) invalidPattern(`Consecutive wildcard characters at pos ${i}`);
    if (bytes[i] === 0x5c) {
      if (bytes[i + 1] !== 0x2a && bytes[i + 1] !== 0x5c) invalidPattern(`Invalid escape character at pos ${i}`);
      i++;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The compiler (JsonRuleCompiler semantics)

/** Names that may not be field names inside `$or` (event-ruler Constants.RESERVED_FIELD_NAMES_IN_OR_RELATIONSHIP). */
const RESERVED_IN_OR = new Set([
  'exactly', 'equals-ignore-case', 'prefix', 'suffix', 'anything-but', 'exists', 'wildcard', 'numeric', 'cidr', 'html',
  '=', '<', '<=', '>', '>=', 'regex', 'not-wildcard', 'not-equals-ignore-case',
  'date-after', 'date-on-or-after', 'date-before', 'date-on-or-before', 'in-date-range',
  'ip-address-in-range', 'ip-address-not-in-range',
]);

type Branch = Map<string, readonly ValueMatcher[]>;

/** Jackson's `getText()` of the token a value starts with, which EventBridge quotes in some messages. */
const tokenText = (v: JsonValue | undefined): string =>
  v === undefined ? ']' : v.kind === 'object' ? '{' : v.kind === 'array' ? '[' : v.kind === 'string' ? v.value : v.text;

const isNumber = (v: JsonValue | undefined): v is { kind: 'number'; text: string } => v?.kind === 'number';

function numericMatcher(items: readonly JsonValue[]): ValueMatcher {
  const [first, second, third, fourth] = items;
  if (first?.kind !== 'string') return invalidPattern(`Invalid member in numeric match: ${tokenText(first)}`);
  const op = first.value;
  if (!['=', '<', '<=', '>', '>='].includes(op)) invalidPattern(`Unrecognized numeric range operator: ${op}`);
  if (!isNumber(second)) return invalidPattern(`Value of ${op === '=' ? 'equals' : op} must be numeric`);
  if (op === '=' || op === '<' || op === '<=') {
    if (items.length > 2) invalidPattern('Too many elements in numeric expression');
    const value = comparable(second.text);
    return op === '=' ? { kind: 'numeric-equals', value } : { kind: 'numeric-range', upper: { value, inclusive: op === '<=' } };
  }
  if (items.length === 2) return { kind: 'numeric-range', lower: { value: comparable(second.text), inclusive: op === '>=' } };
  if (third?.kind !== 'string') return invalidPattern(`Bad value in numeric range: ${tokenText(third)}`);
  if (third.value !== '<' && third.value !== '<=') invalidPattern(`Bad numeric range operator: ${third.value}`);
  if (!isNumber(fourth)) return invalidPattern(`Value of ${third.value} must be numeric`);
  if (items.length > 4) invalidPattern('Too many terms in numeric range expression');
  const lower = { value: comparable(second.text), inclusive: op === '>=' };
  const upper = { value: comparable(fourth.text), inclusive: third.value === '<=' };
  if (lower.value >= upper.value) invalidPattern('Bottom must be less than top');
  return { kind: 'numeric-range', lower, upper };
}

const ANYTHING_BUT_TYPE_ERRORS = {
  'equals-ignore-case': 'Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported.',
  wildcard: 'wildcard match pattern must be a string',
  prefix: 'prefix/suffix match pattern must be a string',
  suffix: 'prefix/suffix match pattern must be a string',
} as const;

function anythingButMatcher(operand: JsonValue): ValueMatcher {
  let of: keyof typeof ANYTHING_BUT_TYPE_ERRORS | undefined;
  let value = operand;
  let extraInner = false;
  if (operand.kind === 'object') {
    const [entry, ...rest] = operand.entries;
    if (entry === undefined) return invalidPattern('Anything-But expression name not found');
    if (!(entry[0] in ANYTHING_BUT_TYPE_ERRORS)) invalidPattern(`Unsupported anything-but pattern: ${entry[0]}`);
    of = entry[0] as keyof typeof ANYTHING_BUT_TYPE_ERRORS;
    value = entry[1];
    extraInner = rest.length > 0;
  }
  if (value.kind !== 'array' && value.kind !== 'string' && value.kind !== 'number') {
    invalidPattern('Value of anything-but must be an array or single string/number value.');
  }
  const items = value.kind === 'array' ? value.items : [value];
  let matcher: ValueMatcher;
  if (of === undefined) {
    const strings: string[] = [];
    const numbers: number[] = [];
    for (const item of items) {
      if (item.kind === 'string') strings.push(item.value);
      else if (item.kind === 'number') numbers.push(comparable(item.text));
      else invalidPattern('Inside anything but list, start|null|boolean is not supported.');
    }
    if (strings.length > 0 === numbers.length > 0) {
      invalidPattern('Inside anything but list, either all values are number or string, mixed type is not supported');
    }
    matcher = strings.length > 0 ? { kind: 'anything-but', of: 'strings', values: strings } : { kind: 'anything-but', of: 'numbers', values: numbers };
  } else {
    const values: string[] = [];
    for (const item of items) {
      if (item.kind !== 'string') return invalidPattern(ANYTHING_BUT_TYPE_ERRORS[of]);
      if ((of === 'prefix' || of === 'suffix') && item.value === '') invalidPattern('Null prefix/suffix not allowed');
      values.push(item.value);
    }
    if (of === 'wildcard') values.forEach(checkWildcard);
    // Native EventBridge answers an empty list here with a 500 InternalFailure (stackd observations); we refuse it as invalid.
    if (values.length === 0) invalidPattern(`anything-but ${of} list must not be empty`);
    matcher = { kind: 'anything-but', of, values };
  }
  if (extraInner) invalidPattern('Too many elements in numeric expression');
  return matcher;
}

function ignoreCaseOperand(op: 'prefix' | 'suffix', operand: Extract<JsonValue, { kind: 'object' }>): string {
  const [entry, ...rest] = operand.entries;
  const name = op === 'prefix' ? 'Prefix' : 'Suffix';
  if (entry === undefined) return invalidPattern(`${name} expression name not found`);
  if (entry[0] !== 'equals-ignore-case') invalidPattern(`Unsupported ${op} pattern: ${entry[0]}`);
  if (entry[1].kind !== 'string') return invalidPattern('equals-ignore-case match pattern must be a string');
  if (rest.length > 0) invalidPattern('Only one key allowed in match expression');
  return entry[1].value;
}

function matchExpression(expr: Extract<JsonValue, { kind: 'object' }>): ValueMatcher {
  const [entry, ...rest] = expr.entries;
  if (entry === undefined) return invalidPattern('Match expression name not found');
  const [op, operand] = entry;
  const oneKey = (m: ValueMatcher): ValueMatcher => (rest.length > 0 ? invalidPattern('Only one key allowed in match expression') : m);
  const str = (message: string): string => (operand.kind === 'string' ? operand.value : invalidPattern(message));
  switch (op) {
    case 'exactly': // undocumented by AWS but part of the event-ruler EventBridge runs ("exactly" is reserved there)
      return oneKey({ kind: 'exact', value: str('exact match pattern must be a string') });
    case 'prefix':
    case 'suffix':
      if (operand.kind === 'object') return oneKey({ kind: op, value: ignoreCaseOperand(op, operand), ignoreCase: true });
      return oneKey({ kind: op, value: str(`${op} match pattern must be a string`), ignoreCase: false });
    case 'equals-ignore-case':
      return oneKey({ kind: op, value: str('equals-ignore-case match pattern must be a string') });
    case 'wildcard': {
      const value = str('wildcard match pattern must be a string');
      checkWildcard(value);
      return oneKey({ kind: 'wildcard', value });
    }
    case 'exists':
      if (operand.kind !== 'literal' || operand.text === 'null') invalidPattern('exists match pattern must be either true or false.');
      return oneKey({ kind: 'exists', value: operand.text === 'true' });
    case 'cidr': // sic: EventBridge words a non-string cidr as a prefix problem
      return oneKey(cidrMatcher(str('prefix match pattern must be a string')));
    case 'numeric': {
      if (operand.kind !== 'array') invalidPattern('Value of numeric must be an array.');
      const m = numericMatcher(operand.kind === 'array' ? operand.items : []);
      return rest.length > 0 ? invalidPattern('Too many elements in numeric expression') : m;
    }
    case 'anything-but': {
      const m = anythingButMatcher(operand);
      return rest.length > 0 ? invalidPattern('Too many elements in numeric expression') : m;
    }
    default:
      return invalidPattern(`Unrecognized match type ${op}`);
  }
}

function valueMatchers(values: Extract<JsonValue, { kind: 'array' }>): ValueMatcher[] {
  const out: ValueMatcher[] = [];
  for (const v of values.items) {
    if (v.kind === 'object') out.push(matchExpression(v));
    else if (v.kind === 'string') out.push(ipLiteralMatcher(v.value) ?? { kind: 'exact', value: v.value });
    else if (v.kind === 'number') {
      // A number literal matches numerically when it is a comparable double, and textually always.
      if (isComparableNumber(v.text)) out.push({ kind: 'numeric-equals', value: Number(v.text) + 0 });
      out.push({ kind: 'literal', text: v.text });
    } else if (v.kind === 'literal') out.push({ kind: 'literal', text: v.text });
    else invalidPattern('Match value must be String, number, true, false, or null');
  }
  if (out.length === 0) invalidPattern('Empty arrays are not allowed');
  return out;
}

/**
 * Compiles a pattern, streaming over it in document order like event-ruler's `JsonRuleCompiler`
 * (so the first problem in the text is the one reported). `$or` forks every branch built so far;
 * a later key overrides an earlier one on the same path within a branch, which makes key order
 * matter around `$or` (observed natively; see the tests).
 *
 * @example
 * const root: JsonValue = { kind: 'object', entries: [['a', { kind: 'array', items: [{ kind: 'literal', text: 'null' }] }]] };
 * compilePattern(root).branches; // [[{ path: 'a', matchers: [{ kind: 'literal', text: 'null' }] }]]
 */
export function compilePattern(root: JsonValue): EventPattern {
  if (root.kind !== 'object') return invalidPattern('Filter is not an object');
  // null once the $or expansion has passed the limit: keep validating, stop materialising branches.
  let branches: Branch[] | null = [];
  const object = (node: Extract<JsonValue, { kind: 'object' }>, path: readonly string[], insideOr: boolean): void => {
    if (node.entries.length === 0) invalidPattern('Empty objects are not allowed');
    for (const [key, value] of node.entries) {
      if (key === '$or') {
        or(value, path);
        continue;
      }
      if (insideOr && RESERVED_IN_OR.has(key)) invalidPattern(`${key} is Ruler reserved fieldName which cannot be used inside $or.`);
      if (value.kind === 'object') object(value, [...path, key], insideOr);
      else if (value.kind === 'array') {
        const matchers = valueMatchers(value);
        if (branches === null) continue;
        if (branches.length === 0) branches.push(new Map());
        for (const b of branches) b.set([...path, key].join('.'), matchers);
      } else invalidPattern(`"${key}" must be an object or an array`);
    }
  };
  const or = (value: JsonValue, path: readonly string[]): void => {
    if (value.kind !== 'array') return invalidPattern('It must be an Array followed with $or.');
    const before: Branch[] | null = branches;
    let after: Branch[] | null = [];
    for (const item of value.items) {
      if (item.kind !== 'object') invalidPattern('Only JSON object is allowed in array of $or relationship.');
      branches = before === null ? null : before.length === 0 ? [new Map()] : before.map((b) => new Map(b));
      object(item as Extract<JsonValue, { kind: 'object' }>, path, true);
      const produced: Branch[] | null = branches;
      after = after === null || produced === null || after.length + produced.length > MAX_OR_COMBINATIONS ? null : [...after, ...produced];
    }
    if (value.items.length < 2) invalidPattern(`There must have at least 2 Objects in $or relationship.`);
    branches = after;
  };
  object(root, [], false);
  if (branches === null) invalidPattern(`Or operator is producing over ${MAX_OR_COMBINATIONS} rule combinations`);
  const sorted = (branches as Branch[]).map((b) =>
    [...b.entries()].sort(([a], [c]) => (a < c ? -1 : a > c ? 1 : 0)).map(([path, matchers]) => ({ path, matchers })),
  );
  return { branches: sorted };
}
