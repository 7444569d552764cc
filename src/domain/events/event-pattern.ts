/**
 * Amazon EventBridge event patterns, as a pure module with no I/O: validate a pattern the way
 * PutRule/TestEventPattern do, and decide whether an event matches it the way EventBridge does.
 *
 * Behaviour follows aws/event-ruler (the engine EventBridge runs), checked against native
 * TestEventPattern results where they are on record; see the tests for the cases and their sources.
 * Every operator is supported: exact values (strings, numbers, true/false/null, empty string),
 * `prefix`/`suffix` (optionally `equals-ignore-case`), `equals-ignore-case`, `wildcard`,
 * `anything-but` (values, `prefix`, `suffix`, `equals-ignore-case`, `wildcard`), `numeric`,
 * `cidr` (IPv4 and IPv6), `exists`, and `$or`, over nested objects and arrays.
 */
import { ValidationError } from '../../errors.js';
import { indexEvent, matchIndexedEvent } from './event-pattern-match.js';
import { compilePattern, invalidPattern, type EventPattern } from './event-pattern-validate.js';

export type { EventPattern, NumericBound, PatternBranch, PatternField, ValueMatcher } from './event-pattern-validate.js';

/**
 * A JSON value as this module reads pattern and event text: objects keep duplicate keys in document
 * order and numbers keep their exact text, both of which EventBridge's streaming parser sees.
 *
 * @example
 * const v: JsonValue = { kind: 'number', text: '9007199254740993' };
 */
export type JsonValue =
  | { readonly kind: 'object'; readonly entries: ReadonlyArray<readonly [string, JsonValue]> }
  | { readonly kind: 'array'; readonly items: readonly JsonValue[] }
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'number'; readonly text: string }
  | { readonly kind: 'literal'; readonly text: 'true' | 'false' | 'null' };

/**
 * Top-level fields TestEventPattern requires of its Event. The API reference also lists
 * `resources`, but EventBridge accepts events without it (native observations: radkawar/stackd
 * "edge_envelope_missing_resources"; LocalStack's provider notes the same).
 *
 * @example
 * REQUIRED_EVENT_FIELDS.includes('detail-type'); // true
 */
export const REQUIRED_EVENT_FIELDS = ['id', 'account', 'source', 'time', 'region', 'detail-type'] as const;

/**
 * Validates and compiles an event pattern. A string is read as the pattern's JSON text (keeping
 * duplicate keys and exact numbers, as EventBridge does); anything else is taken as an already
 * parsed pattern and serialised with `JSON.stringify` first.
 *
 * Throws {@link ValidationError} with EventBridge's wording ("Event pattern is not valid. Reason: …")
 * for every pattern PutRule would refuse, for example a leaf that is not an array, an empty array or
 * object, an unknown operator, a malformed `numeric` range, a bad CIDR, or an `$or` with fewer than
 * two alternatives or more than 1000 combinations.
 *
 * @example
 * const pattern = parseEventPattern('{"source":["task.management"],"detail-type":["Task Created"]}');
 * @example
 * parseEventPattern({ detail: { state: 'running' } }); // throws: "state" must be an object or an array
 */
export function parseEventPattern(json: string | unknown): EventPattern {
  const text = typeof json === 'string' ? json : toJsonText(json);
  if (text === undefined) return invalidPattern('Filter is not valid JSON');
  let root: JsonValue;
  try {
    root = parseJsonText(text);
  } catch (e) {
    if (isJsonSyntaxError(e)) return invalidPattern(e.message);
    throw e;
  }
  return compilePattern(root);
}

function readEvent(event: unknown): JsonValue | undefined {
  let text: string | undefined;
  try {
    text = typeof event === 'string' ? event : (JSON.stringify(event) as string | undefined);
  } catch (e) {
    throw new ValidationError('Parameter Event is not valid.', [`the event is not JSON-serialisable: ${(e as Error).message}`]);
  }
  if (text === undefined) return undefined; // undefined, a function or a symbol: not an event
  try {
    return parseJsonText(text);
  } catch (e) {
    if (isJsonSyntaxError(e)) throw new ValidationError('Parameter Event is not valid.', [e.message]);
    throw e;
  }
}

/**
 * Whether an event matches a compiled pattern. The event may be a JavaScript value (serialised
 * with `JSON.stringify`, as an SDK would send it) or JSON text (then duplicate keys and large
 * integers are kept exactly). An event that is not a JSON object matches nothing.
 *
 * @example
 * const pattern = parseEventPattern({ source: ['aws.ec2'], detail: { state: [{ 'anything-but': 'pending' }] } });
 * matchesEventPattern(pattern, { source: 'aws.ec2', detail: { state: 'running' } }); // true
 */
export function matchesEventPattern(pattern: EventPattern, event: unknown): boolean {
  const root = readEvent(event);
  const fields = root === undefined ? undefined : indexEvent(root);
  return fields !== undefined && matchIndexedEvent(pattern, fields);
}

/** RFC 3339 date-time, which is what an EventBridge event's `time` holds. */
function isEventTime(value: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(?:[Zz]|[+-](\d{2}):(\d{2}))$/.exec(value);
  if (m === null) return false;
  const [year, month, day, hour, minute, second, offsetHour = 0, offsetMinute = 0] = m.slice(1).map((x) => (x === undefined ? undefined : Number(x)));
  if (year === undefined || month === undefined || day === undefined) return false;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const daysInMonth = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1] ?? 0;
  const clock = (hour ?? 99) <= 23 && (minute ?? 99) <= 59 && (second ?? 99) <= 60; // 60: leap second
  return month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth && clock && offsetHour <= 23 && offsetMinute <= 59;
}

/**
 * Mirrors the TestEventPattern API: validates the pattern (ValidationError as for
 * {@link parseEventPattern}), then the event, which must be a JSON object carrying
 * {@link REQUIRED_EVENT_FIELDS} and an RFC 3339 `time` (ValidationError "Parameter Event is not
 * valid." otherwise), and says whether the pattern matches it.
 *
 * @example
 * testEventPattern(
 *   '{"source":["task.management"]}',
 *   '{"id":"1","account":"123456789012","source":"task.management","time":"2024-01-01T00:00:00Z",' +
 *     '"region":"us-east-1","detail-type":"Task Created","detail":{}}',
 * ); // true
 */
export function testEventPattern(patternJson: string, eventJson: string): boolean {
  const pattern = parseEventPattern(patternJson);
  const root = readEvent(eventJson);
  if (root?.kind !== 'object') throw new ValidationError('Parameter Event is not valid.', ['the event must be a JSON object']);
  const present = new Set(root.entries.map(([key]) => key));
  const missing = REQUIRED_EVENT_FIELDS.filter((field) => !present.has(field));
  if (missing.length > 0) {
    // EventBridge itself says only "Parameter Event is not valid."; the reason is ours.
    throw new ValidationError(
      `Parameter Event is not valid. Reason: Provided Event is missing required field${missing.length > 1 ? 's' : ''} ${missing.join(', ')}.`,
      missing.map((field) => `missing required field ${field}`),
    );
  }
  const time = root.entries.filter(([key]) => key === 'time').at(-1)?.[1];
  if (time?.kind !== 'string' || !isEventTime(time.value)) {
    throw new ValidationError('Parameter Event is not valid. Reason: Invalid time.', ['time must be an RFC 3339 date-time string']);
  }
  const fields = indexEvent(root);
  return fields !== undefined && matchIndexedEvent(pattern, fields);
}

// ---------------------------------------------------------------------------------------------
// JSON text

/** Jackson's default nesting limit (StreamReadConstraints.maxNestingDepth). */
const MAX_JSON_DEPTH = 1000;

class JsonSyntaxError extends Error {}

const JSON_ESCAPES: Readonly<Record<string, string>> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

/**
 * Parses JSON text without losing number lexemes or duplicate keys (`{"a":1,"a":2}` keeps both).
 * Throws a JsonSyntaxError, which each caller words for its own parameter.
 */
function parseJsonText(text: string): JsonValue {
  let pos = 0;
  const fail = (what: string): never => {
    throw new JsonSyntaxError(`${what} at position ${pos}`);
  };
  const ws = (): void => {
    while (pos < text.length) {
      const c = text.charCodeAt(pos);
      if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) break;
      pos++;
    }
  };
  const str = (): string => {
    pos++; // opening quote
    let out = '';
    for (;;) {
      if (pos >= text.length) fail('Unterminated string');
      const c = text.charCodeAt(pos);
      if (c === 0x22) {
        pos++;
        return out;
      }
      if (c < 0x20) fail('Unescaped control character in string');
      if (c !== 0x5c) {
        out += text[pos];
        pos++;
        continue;
      }
      const e = text[pos + 1];
      pos += 2;
      const simple = e === undefined ? undefined : JSON_ESCAPES[e];
      if (simple !== undefined) out += simple;
      else if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(pos, pos + 4))) {
        out += String.fromCharCode(parseInt(text.slice(pos, pos + 4), 16));
        pos += 4;
      } else fail('Invalid escape in string');
    }
  };
  const value = (depth: number): JsonValue => {
    if (depth > MAX_JSON_DEPTH) fail(`Nesting deeper than ${MAX_JSON_DEPTH}`);
    ws();
    const c = text[pos];
    if (c === '{') {
      pos++;
      const entries: Array<readonly [string, JsonValue]> = [];
      ws();
      if (text[pos] === '}') {
        pos++;
        return { kind: 'object', entries };
      }
      for (;;) {
        ws();
        if (text[pos] !== '"') fail('Expected a double-quoted field name');
        const key = str();
        ws();
        if (text[pos] !== ':') fail("Expected ':'");
        pos++;
        entries.push([key, value(depth + 1)]);
        ws();
        if (text[pos] === ',') pos++;
        else if (text[pos] === '}') {
          pos++;
          return { kind: 'object', entries };
        } else fail("Expected ',' or '}'");
      }
    }
    if (c === '[') {
      pos++;
      const items: JsonValue[] = [];
      ws();
      if (text[pos] === ']') {
        pos++;
        return { kind: 'array', items };
      }
      for (;;) {
        items.push(value(depth + 1));
        ws();
        if (text[pos] === ',') pos++;
        else if (text[pos] === ']') {
          pos++;
          return { kind: 'array', items };
        } else fail("Expected ',' or ']'");
      }
    }
    if (c === '"') return { kind: 'string', value: str() };
    const num = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(text.slice(pos, pos + 1100));
    if (num !== null && num[0] !== '' && num[0] !== '-') {
      pos += num[0].length;
      return { kind: 'number', text: num[0] };
    }
    for (const lit of ['true', 'false', 'null'] as const) {
      if (text.startsWith(lit, pos)) {
        pos += lit.length;
        return { kind: 'literal', text: lit };
      }
    }
    return fail(pos >= text.length ? 'Unexpected end of input' : `Unexpected character '${c ?? ''}'`);
  };
  const root = value(0);
  ws();
  if (pos < text.length) fail('Unexpected content after the JSON value');
  return root;
}

/** Whether a value is a JSON syntax error raised by {@link parseJsonText}. */
function isJsonSyntaxError(e: unknown): e is Error {
  return e instanceof JsonSyntaxError;
}

/** A JavaScript value as JSON text, the way an SDK would send it, or `undefined` when it is not serialisable. */
function toJsonText(value: unknown): string | undefined {
  try {
    return JSON.stringify(value) as string | undefined;
  } catch {
    return undefined;
  }
}
