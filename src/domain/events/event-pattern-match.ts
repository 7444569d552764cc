/**
 * Matching half of the EventBridge event-pattern engine. It follows aws/event-ruler's
 * array-consistent finder (`ACFinder`) and its byte machine (`ByteMachine.transitionOn`):
 *
 * - the event is flattened into leaf fields named by dot-joined paths; array elements share their
 *   array's path and remember which element of which array they came from;
 * - a branch's fields are checked in path order, and two matched fields may not come from
 *   different elements of the same array;
 * - `exists: false` holds when no field of that path is consistent with the fields matched so far.
 */
import type { JsonValue } from './event-pattern.js';
import type { EventPattern, PatternBranch, ValueMatcher } from './event-pattern-validate.js';

// ---------------------------------------------------------------------------------------------
// Numbers

function decimalKey(text: string): string {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (m === null) return text;
  const frac = m[3] ?? '';
  let digits = (m[2] ?? '') + frac;
  let exp = Number(m[4] ?? '0') - frac.length;
  digits = digits.replace(/^0+/, '');
  if (digits === '') return '0';
  while (digits.endsWith('0')) {
    digits = digits.slice(0, -1);
    exp++;
  }
  return `${m[1] === '-' ? '-' : ''}${digits}e${exp}`;
}

/**
 * EventBridge compares numbers as doubles, and refuses (in `numeric` and `anything-but`) any number
 * whose decimal value changes when it becomes a double ("Cannot compare number : 1.0000000000000001").
 * Mirrors event-ruler's `ComparableNumber.generate`: `BigDecimal.valueOf(d).compareTo(new BigDecimal(text)) == 0`.
 *
 * @example
 * isComparableNumber('0.1'); // true
 * isComparableNumber('9007199254740993'); // false: the double is ...992
 */
export function isComparableNumber(text: string): boolean {
  const d = Number(text);
  return Number.isFinite(d) && decimalKey(text) === decimalKey(String(d));
}

// ---------------------------------------------------------------------------------------------
// IP addresses (event-ruler CIDR.java semantics, which delegate to java.net.InetAddress)

const IPV4_SHAPE = /^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$/;
const IPV6_SHAPE = /^[0-9a-fA-F:]*:[0-9a-fA-F:]*$/;

function parseIpv4(s: string): number[] | undefined {
  if (s.length > 15) return undefined;
  const parts = s.split('.').map((p) => Number(p));
  return parts.every((p) => p <= 255) ? parts : undefined;
}

function parseIpv6(s: string): number[] | undefined {
  if (s.length < 2) return undefined;
  const dbl = s.indexOf('::');
  if (dbl !== s.lastIndexOf('::')) return undefined;
  const groups = (part: string): number[] | undefined => {
    if (part === '') return [];
    const out: number[] = [];
    for (const g of part.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  let words: number[];
  if (dbl >= 0) {
    const head = groups(s.slice(0, dbl));
    const tail = groups(s.slice(dbl + 2));
    if (head === undefined || tail === undefined || head.length + tail.length > 8) return undefined;
    words = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  } else {
    const all = groups(s);
    if (all === undefined || all.length !== 8) return undefined;
    words = all;
  }
  const bytes = words.flatMap((w) => [w >> 8, w & 0xff]);
  // InetAddress turns IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) into plain IPv4 ones.
  if (bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) return bytes.slice(12);
  return bytes;
}

/**
 * The bytes of an IP address literal as java.net.InetAddress reads it (IPv4-mapped IPv6 becomes
 * IPv4), or why it is not one: 'nonstandard' (not shaped like an address) or 'invalid'.
 *
 * @example
 * ipBytes('::ffff:a00:1'); // [10, 0, 0, 1]
 */
export function ipBytes(s: string): number[] | 'nonstandard' | 'invalid' {
  if (IPV4_SHAPE.test(s)) return parseIpv4(s) ?? 'invalid';
  if (IPV6_SHAPE.test(s)) return parseIpv6(s) ?? 'invalid';
  return 'nonstandard';
}

/**
 * Upper-case hex digits of address bytes.
 *
 * @example
 * ipHex([10, 0, 0, 1]); // '0A000001'
 */
export const ipHex = (bytes: readonly number[]): string => bytes.map((b) => b.toString(16).toUpperCase().padStart(2, '0')).join('');

/**
 * The upper-case hex form EventBridge compares IP addresses in (8 digits for IPv4, 32 for IPv6),
 * or `undefined` when the string is not an IP address literal.
 *
 * @example
 * ipToHex('10.0.0.1'); // '0A000001'
 */
export function ipToHex(s: string): string | undefined {
  const b = ipBytes(s);
  return typeof b === 'string' ? undefined : ipHex(b);
}

type Leaf =
  | { readonly kind: 'string'; readonly value: string }
  // value: the double EventBridge compares with, or undefined when the number is not comparable.
  | { readonly kind: 'number'; readonly text: string; readonly value: number | undefined }
  | { readonly kind: 'literal'; readonly text: string };

type Membership = ReadonlyMap<number, number>;

interface Field {
  readonly leaf: Leaf;
  readonly membership: Membership;
}

/**
 * The leaf fields of an event, grouped by path.
 *
 * @example
 * const fields: EventFields | undefined = indexEvent({ kind: 'object', entries: [['a', { kind: 'number', text: '1' }]] });
 */
export type EventFields = ReadonlyMap<string, readonly Field[]>;

/** `Double.toString` as Java prints it, which is how EventBridge re-serialises a non-integer number. */
function javaDoubleString(d: number): string {
  if (d === 0) return Object.is(d, -0) ? '-0.0' : '0.0';
  const abs = Math.abs(d);
  const [mantissa = '0', expText = '0'] = abs.toExponential().split('e');
  const digits = mantissa.replace('.', '');
  const exp = Number(expText);
  const sign = d < 0 ? '-' : '';
  if (abs >= 1e-3 && abs < 1e7) {
    if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
    return `${sign}${digits.slice(0, exp + 1).padEnd(exp + 1, '0')}.${digits.slice(exp + 1) || '0'}`;
  }
  return `${sign}${digits[0] ?? '0'}.${digits.slice(1) || '0'}E${exp}`;
}

/**
 * How an event number looks to the matcher. EventBridge parses the event and writes it out again
 * before matching: integers keep their digits, other numbers become doubles (so the literal
 * 1.0000000000000001 in an event reads as 1.0). Inferred from native TestEventPattern observations
 * (radkawar/stackd testdata/aws/eventbridge/patterns.json, "edge_precision_*").
 */
function eventNumber(text: string): Leaf {
  if (/^-?\d+$/.test(text)) {
    const t = text === '-0' ? '0' : text;
    return { kind: 'number', text: t, value: isComparableNumber(t) ? Number(t) + 0 : undefined };
  }
  const d = Number(text);
  // Jackson writes non-finite doubles as strings (unverified against EventBridge).
  if (!Number.isFinite(d)) return { kind: 'string', value: d > 0 ? 'Infinity' : '-Infinity' };
  return { kind: 'number', text: javaDoubleString(d), value: d + 0 };
}

/**
 * Flattens an event into its leaf fields; `undefined` when the event is not a JSON object.
 * Empty arrays and empty objects contribute no field, so `exists` treats them as absent.
 *
 * @example
 * indexEvent({ kind: 'object', entries: [['state', { kind: 'string', value: 'running' }]] })?.get('state'); // one field
 */
export function indexEvent(root: JsonValue): EventFields | undefined {
  if (root.kind !== 'object') return undefined;
  const fields = new Map<string, Field[]>();
  let arrays = 0;
  const visit = (node: JsonValue, path: string | undefined, membership: Membership): void => {
    if (node.kind === 'object') {
      for (const [key, value] of node.entries) visit(value, path === undefined ? key : `${path}.${key}`, membership);
    } else if (node.kind === 'array') {
      const id = arrays++;
      node.items.forEach((item, index) => visit(item, path, new Map([...membership, [id, index]])));
    } else if (path !== undefined) {
      const leaf: Leaf =
        node.kind === 'string'
          ? { kind: 'string', value: node.value }
          : node.kind === 'number'
            ? eventNumber(node.text)
            : { kind: 'literal', text: node.text };
      const list = fields.get(path) ?? [];
      list.push({ leaf, membership });
      fields.set(path, list);
    }
  };
  visit(root, undefined, new Map());
  return fields;
}

// ---------------------------------------------------------------------------------------------
// Value tests

const escapeRegExp = (s: string): string => s.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');

/**
 * equals-ignore-case as event-ruler does it: each UTF-16 unit of the pattern may appear as its own
 * lower- or upper-case form (which may be longer: ß → SS), and a surrogate unit turns into "?"
 * because Java encodes a lone surrogate that way. So "K" does not match the Kelvin sign, and an
 * emoji pattern matches "??" but not the emoji (native observations, radkawar/stackd "edge_depth_casefold_*").
 */
function ignoreCaseRegExp(value: string, anchorStart: boolean, anchorEnd: boolean): RegExp {
  let source = '';
  for (const unit of value.split('')) {
    const code = unit.charCodeAt(0);
    const forms = code >= 0xd800 && code <= 0xdfff ? ['?'] : [...new Set([unit.toLowerCase(), unit.toUpperCase()])];
    source += `(?:${forms.map(escapeRegExp).join('|')})`;
  }
  return new RegExp(`${anchorStart ? '^' : ''}${source}${anchorEnd ? '$' : ''}`);
}

/** A wildcard as tokens: a string is one literal UTF-16 unit, null is `*`. */
function wildcardTokens(value: string): ReadonlyArray<string | null> {
  const tokens: Array<string | null> = [];
  for (let i = 0; i < value.length; i++) {
    const c = value[i] ?? '';
    if (c === '*') tokens.push(null);
    else if (c === '\\') tokens.push(value[++i] ?? '');
    else tokens.push(c);
  }
  return tokens;
}

/** Glob matching with backtracking to the last star only: O(n·m), never exponential. */
function wildcardMatches(tokens: ReadonlyArray<string | null>, s: string): boolean {
  let t = 0;
  let i = 0;
  let starT = -1;
  let starI = 0;
  while (i < s.length) {
    const token = tokens[t];
    if (t < tokens.length && token !== null && token === s[i]) {
      t++;
      i++;
    } else if (t < tokens.length && token === null) {
      starT = t++;
      starI = i;
    } else if (starT >= 0) {
      t = starT + 1;
      i = ++starI;
    } else return false;
  }
  while (t < tokens.length && tokens[t] === null) t++;
  return t === tokens.length;
}

const HEX_DIGITS = '0123456789ABCDEF';
const hexIndex = (c: string | undefined): number => (c === undefined || c === '' ? -1 : HEX_DIGITS.indexOf(c));

/**
 * The byte automaton event-ruler builds for an IP range (CIDR.java + ByteMachine.addRangePattern):
 * it accepts as soon as a digit falls strictly inside the range and ignores what follows. Hence
 * `cidr 10.0.0.0/8` matches the IPv6 address `a00::1`, and a JSON number like 5 lies in any `/0`
 * (native observations, radkawar/stackd "edge_cidr_*", "edge_depth_cidr_*").
 */
function inByteRange(v: string, m: Extract<ValueMatcher, { kind: 'ip-range' }>): boolean {
  const { bottom, top, openBottom, openTop } = m;
  let fork = 0;
  while (fork < bottom.length && bottom[fork] === top[fork]) fork++;
  if (v.slice(0, fork) !== bottom.slice(0, fork)) return false;
  const c = hexIndex(v[fork]);
  const b = hexIndex(bottom[fork]);
  const t = hexIndex(top[fork]);
  if (c < 0) return false;
  if (c > b && c < t) return true;
  const last = bottom.length - 1;
  if (fork === last) return (c === b && !openBottom) || (c === t && !openTop);
  const edge = c === b ? bottom : c === t ? top : undefined;
  if (edge === undefined) return false;
  for (let i = fork + 1; i <= last; i++) {
    const x = hexIndex(v[i]);
    const e = hexIndex(edge[i]);
    if (x < 0) return false;
    if (edge === bottom ? x > e : x < e) return true;
    if (x !== e) return false;
  }
  return edge === bottom ? !openBottom : !openTop;
}

interface RuntimeField {
  readonly path: string;
  /** The field's list holds `{ "exists": false }`. */
  readonly absentOk: boolean;
  readonly test: (leaf: Leaf) => boolean;
}

function compileTest(matchers: readonly ValueMatcher[]): (leaf: Leaf) => boolean {
  // As in ByteMachine.transitionOn: a field whose list holds a numeric test sees comparable event
  // numbers only as numbers; otherwise, if it holds an IP test, it sees IP-address strings only in
  // their hex form. Every other test then fails on the converted value.
  const hasNumeric = matchers.some((m) => m.kind === 'numeric-equals' || m.kind === 'numeric-range' || (m.kind === 'anything-but' && m.of === 'numbers'));
  const hasIp = matchers.some((m) => m.kind === 'ip-range');
  const tests = matchers.map((m): ((leaf: Leaf, str: string | undefined, num: number | undefined, bytes: string) => boolean) => {
    switch (m.kind) {
      case 'exact':
        return (_, s) => s === m.value;
      case 'literal':
        return (leaf, _, num, bytes) => num === undefined && leaf.kind !== 'string' && bytes === m.text;
      case 'numeric-equals':
        return (_, __, num) => num === m.value;
      case 'numeric-range':
        return (_, __, num) =>
          num !== undefined &&
          (m.lower === undefined || (m.lower.inclusive ? num >= m.lower.value : num > m.lower.value)) &&
          (m.upper === undefined || (m.upper.inclusive ? num <= m.upper.value : num < m.upper.value));
      case 'ip-range':
        return (_, __, num, bytes) => num === undefined && inByteRange(bytes, m);
      case 'prefix':
      case 'suffix': {
        if (!m.ignoreCase) return (_, s) => s !== undefined && (m.kind === 'prefix' ? s.startsWith(m.value) : s.endsWith(m.value));
        const re = ignoreCaseRegExp(m.value, m.kind === 'prefix', m.kind === 'suffix');
        return (_, s) => s !== undefined && re.test(s);
      }
      case 'equals-ignore-case': {
        const re = ignoreCaseRegExp(m.value, true, true);
        return (_, s) => s !== undefined && re.test(s);
      }
      case 'wildcard': {
        const tokens = wildcardTokens(m.value);
        return (_, s) => s !== undefined && wildcardMatches(tokens, s);
      }
      case 'exists':
        return () => true;
      case 'anything-but': {
        // Anything-but matches any value it does not exclude, including numbers, true and null
        // (native observations: LocalStack test_put_events_with_rule_pattern_anything_but; stackd "operator_5_*").
        if (m.of === 'numbers') return (_, __, num) => num === undefined || !m.values.includes(num);
        const excluded: (s: string) => boolean =
          m.of === 'strings'
            ? (s) => m.values.includes(s)
            : m.of === 'prefix'
              ? (s) => m.values.some((v) => s.startsWith(v))
              : m.of === 'suffix'
                ? (s) => m.values.some((v) => s.endsWith(v))
                : m.of === 'equals-ignore-case'
                  ? ((res) => (s: string) => res.some((re) => re.test(s)))(m.values.map((v) => ignoreCaseRegExp(v, true, true)))
                  : ((toks) => (s: string) => toks.some((t) => wildcardMatches(t, s)))(m.values.map(wildcardTokens));
        return (_, s) => s === undefined || !excluded(s);
      }
    }
  });
  return (leaf) => {
    const num = hasNumeric && leaf.kind === 'number' ? leaf.value : undefined;
    const ip = num === undefined && !hasNumeric && hasIp && leaf.kind === 'string' ? ipToHex(leaf.value) : undefined;
    const str = num === undefined && ip === undefined && leaf.kind === 'string' ? leaf.value : undefined;
    const bytes = ip ?? (leaf.kind === 'string' ? `"${leaf.value}"` : leaf.text);
    return tests.some((t) => t(leaf, str, num, bytes));
  };
}

const runtimeCache = new WeakMap<PatternBranch, readonly RuntimeField[]>();

function runtime(branch: PatternBranch): readonly RuntimeField[] {
  let compiled = runtimeCache.get(branch);
  if (compiled === undefined) {
    compiled = branch.map((f) => ({
      path: f.path,
      absentOk: f.matchers.some((m) => m.kind === 'exists' && !m.value),
      test: compileTest(f.matchers.filter((m) => !(m.kind === 'exists' && !m.value))),
    }));
    runtimeCache.set(branch, compiled);
  }
  return compiled;
}

// ---------------------------------------------------------------------------------------------
// Array-consistent search

function consistent(a: Membership, b: Membership): boolean {
  for (const [id, index] of b) {
    const other = a.get(id);
    if (other !== undefined && other !== index) return false;
  }
  return true;
}

function matchBranch(branch: PatternBranch, fields: EventFields): boolean {
  const steps = runtime(branch).map((f) => {
    const candidates = fields.get(f.path) ?? [];
    return { absentOk: f.absentOk, candidates, passing: candidates.map((c) => f.test(c.leaf)) };
  });
  // Only arrays that later fields belong to can still constrain the search; remembering failures
  // per (step, those array positions) keeps independent arrays from multiplying the work.
  const relevant: Array<ReadonlySet<number>> = new Array<ReadonlySet<number>>(steps.length + 1);
  relevant[steps.length] = new Set();
  for (let i = steps.length - 1; i >= 0; i--) {
    const ids = new Set(relevant[i + 1]);
    for (const c of steps[i]?.candidates ?? []) for (const id of c.membership.keys()) ids.add(id);
    relevant[i] = ids;
  }
  const failed = new Set<string>();
  const search = (i: number, membership: Membership): boolean => {
    const step = steps[i];
    if (step === undefined) return true;
    const ids = relevant[i] ?? new Set<number>();
    const key = `${i}|${[...membership].filter(([id]) => ids.has(id)).map(([id, index]) => `${id}:${index}`).sort().join(',')}`;
    if (failed.has(key)) return false;
    if (step.absentOk && !step.candidates.some((c) => consistent(membership, c.membership)) && search(i + 1, membership)) return true;
    for (let j = 0; j < step.candidates.length; j++) {
      const c = step.candidates[j];
      if (c === undefined || step.passing[j] !== true || !consistent(membership, c.membership)) continue;
      if (search(i + 1, c.membership.size === 0 ? membership : new Map([...membership, ...c.membership]))) return true;
    }
    failed.add(key);
    return false;
  };
  return search(0, new Map());
}

/**
 * Whether any branch of a compiled pattern matches an indexed event.
 *
 * @example
 * const fields = indexEvent({ kind: 'object', entries: [['a', { kind: 'number', text: '1' }]] });
 * matchIndexedEvent(parseEventPattern('{"a":[1]}'), fields!); // true
 */
export function matchIndexedEvent(pattern: EventPattern, fields: EventFields): boolean {
  return pattern.branches.some((branch) => matchBranch(branch, fields));
}
