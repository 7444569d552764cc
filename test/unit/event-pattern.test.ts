/**
 * The EventBridge event-pattern language, operator by operator. Expected results are EventBridge's:
 * from the AWS user guide where it says, and otherwise from native TestEventPattern results on
 * record — radkawar/stackd `testdata/aws/eventbridge/patterns.json` (read-only probes of
 * TestEventPattern in us-east-1, cited as "stackd") and LocalStack's AWS-validated snapshots in
 * `tests/aws/services/events/` (cited as "LocalStack") — or from aws/event-ruler's source.
 */
import { describe, expect, it } from 'vitest';
import {
  matchesEventPattern,
  parseEventPattern,
  REQUIRED_EVENT_FIELDS,
  testEventPattern,
} from '../../src/domain/events/event-pattern.js';
import { ValidationError } from '../../src/errors.js';

/** An event as EventBridge delivers it; `detail` is JSON text so number spellings and duplicate keys survive. */
const event = (detail: string, top = ''): string =>
  `{"version":"0","id":"6a7e8feb-b491-4cf7-a9f1-bf3703467718","detail-type":"probe","source":"spool.test",` +
  `"account":"123456789012","time":"2024-05-01T12:00:00Z","region":"us-east-1","resources":[]${top},"detail":${detail}}`;

/** A pattern on `detail.v`. */
const onV = (values: string): string => `{"detail":{"v":${values}}}`;

type MatchCase = [name: string, pattern: string, detail: string, matches: boolean];

const matching = (cases: MatchCase[]): void => {
  it.each(cases)('%s', (_name, pattern, detail, matches) => {
    expect(testEventPattern(pattern, event(detail))).toBe(matches);
  });
};

const reasonOf = (run: () => unknown): string => {
  try {
    run();
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationError);
    return (e as ValidationError).message;
  }
  throw new Error('expected a ValidationError');
};

describe('the task-management recipe', () => {
  const pattern = '{"source":["task.management"],"detail-type":["Task Created","Task Updated","Task Completed","Task Deleted"]}';
  // What EventBridge builds from PutEvents { Source, DetailType, Detail }.
  const delivered = (source: string, detailType: string): string =>
    JSON.stringify({
      version: '0',
      id: 'b5a2c1f0-0000-4000-8000-000000000001',
      'detail-type': detailType,
      source,
      account: '123456789012',
      time: '2024-05-01T12:00:00Z',
      region: 'us-east-1',
      resources: [],
      detail: { eventType: 'task.created', taskData: { title: 'Test Task', created_by: 'test@example.com' } },
    });

  it('matches the test event (Source task.management, DetailType Task Created)', () => {
    expect(testEventPattern(pattern, delivered('task.management', 'Task Created'))).toBe(true);
  });
  it('matches every listed detail-type', () => {
    for (const type of ['Task Updated', 'Task Completed', 'Task Deleted']) expect(testEventPattern(pattern, delivered('task.management', type))).toBe(true);
  });
  it('does not match an unlisted detail-type or another source', () => {
    expect(testEventPattern(pattern, delivered('task.management', 'Task Archived'))).toBe(false);
    expect(testEventPattern(pattern, delivered('orders', 'Task Created'))).toBe(false);
  });
  it('can also filter on the detail', () => {
    const onDetail = '{"source":["task.management"],"detail":{"taskData":{"created_by":[{"suffix":"@example.com"}]}}}';
    expect(testEventPattern(onDetail, delivered('task.management', 'Task Created'))).toBe(true);
  });
});

describe('exact values', () => {
  matching([
    ['a string equals itself', onV('["running"]'), '{"v":"running"}', true],
    ['matching is case-sensitive', onV('["running"]'), '{"v":"Running"}', false],
    ['any of several values (OR within a field)', onV('["pending","running"]'), '{"v":"running"}', true],
    ['none of several values', onV('["pending","running"]'), '{"v":"stopped"}', false],
    ['a missing field does not match', onV('["running"]'), '{"w":"running"}', false],
    ['the empty string matches the empty string', onV('[""]'), '{"v":""}', true],
    ['empty string and null are not interchangeable (user guide)', onV('[""]'), '{"v":null}', false],
    ['null matches null', onV('[null]'), '{"v":null}', true],
    ['null does not match the string "null" (stackd)', onV('[null]'), '{"v":"null"}', false],
    ['null does not match a missing field', onV('[null]'), '{"w":1}', false],
    ['true matches true', onV('[true]'), '{"v":true}', true],
    ['true does not match the string "true" (stackd)', onV('[true]'), '{"v":"true"}', false],
    ['false matches false', onV('[false]'), '{"v":false}', true],
    ['a number matches the same number', onV('[1]'), '{"v":1}', true],
    ['a number matches another spelling of it: 1.0 (stackd)', onV('[1]'), '{"v":1.0}', true],
    ['a number matches another spelling of it: 1e0 (stackd)', onV('[1]'), '{"v":1e0}', true],
    ['a number does not match its string (stackd)', onV('[1]'), '{"v":"1"}', false],
    ['a string of digits does not match the number (stackd)', onV('["1"]'), '{"v":1}', false],
    ['a number does not match true (stackd)', onV('[1]'), '{"v":true}', false],
    ['-0 matches 0 (stackd)', onV('[-0]'), '{"v":0}', true],
    ['a string that looks like an IP matches the same address spelled differently', onV('["2001:db8::1"]'), '{"v":"2001:DB8:0:0:0:0:0:1"}', true],
    ['top-level fields: fields are ANDed', '{"source":["spool.test"],"detail-type":["probe"]}', '{}', true],
    ['top-level fields: one failing field fails the pattern', '{"source":["spool.test"],"detail-type":["other"]}', '{}', false],
  ]);
});

describe('nested objects and paths', () => {
  matching([
    ['a pattern object descends into the event', '{"detail":{"a":{"b":{"c":["x"]}}}}', '{"a":{"b":{"c":"x"}}}', true],
    ['the nesting must be present in the event', '{"detail":{"a":{"b":["x"]}}}', '{"b":"x"}', false],
    ['a leaf pattern never matches an object value', '{"detail":{"a":["x"]}}', '{"a":{"b":"x"}}', false],
    // event-ruler joins keys with "." on both sides (README "JSON keys with dots"); stackd "dots_duplicates_*".
    ['a dotted pattern key matches nested event objects', '{"detail":{"a.b":[1]}}', '{"a":{"b":1}}', true],
    ['a nested pattern matches a dotted event key', '{"detail.a":{"b":[1]}}', '{"a.b":1}', true],
    ['the empty key is a path step like any other (stackd)', '{"detail":{"":{"v":[1]}}}', '{"":{"v":1}}', true],
    ['a JSON string holding JSON is not parsed (LocalStack nested_json_NEG)', '{"detail":{"k":["v"]}}', '"{\\"k\\": \\"v\\"}"', false],
  ]);
});

describe('arrays in the event', () => {
  matching([
    ['matches when any element matches (user guide)', onV('["a"]'), '{"v":["b","a"]}', true],
    ['an empty array matches no value (stackd)', onV('["a"]'), '{"v":[]}', false],
    ['nested arrays are flattened (stackd)', onV('["a"]'), '{"v":[["a","b"]]}', true],
    ['an array of objects is searched element by element', '{"detail":{"v":{"n":["Anna"]}}}', '{"v":[{"n":"John"},{"n":"Anna"}]}', true],
    ['a primitive pattern does not match an object element (stackd)', onV('["a"]'), '{"v":[{"v":"a"}]}', false],
    ['two fields must come from the same element (event-ruler README; stackd "correlated_*")', '{"detail":{"v":{"a":[1],"b":[2]}}}', '{"v":[{"a":1},{"b":2}]}', false],
    ['two fields from one element match', '{"detail":{"v":{"a":[1],"b":[2]}}}', '{"v":[{"a":1,"b":0},{"a":1,"b":2}]}', true],
    ['elements of different arrays combine freely', '{"detail":{"x":{"a":[1]},"y":{"b":[2]}}}', '{"x":[{"a":0},{"a":1}],"y":[{"b":2}]}', true],
    ['many independent arrays do not blow up the search (stackd "edge_depth_arrays_*")',
      '{"detail":{"t0":[{"prefix":"x"}],"t1":[{"prefix":"x"}],"t2":[{"prefix":"x"}],"t3":[{"prefix":"x"}],"t4":[{"prefix":"x"}],"t5":[{"prefix":"x"}],"t6":[{"prefix":"x"}],"t7":[{"prefix":"x"}],"z":["ready"]}}',
      `{${Array.from({ length: 8 }, (_, i) => `"t${i}":["x0","x1","x2","x3","x4","x5","x6","x7"]`).join(',')},"z":"other"}`, false],
    ['a pattern on the resources array (user guide)', '{"resources":["arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f"]}', '{}', false],
  ]);
  it('matches resources by intersection (user guide)', () => {
    const pattern = '{"resources":["arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f","arn:aws:ec2:us-east-1:111122223333:instance/i-b188560f"]}';
    const withResources = event('{}').replace('"resources":[]', '"resources":["arn:aws:autoscaling:x","arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f"]');
    expect(testEventPattern(pattern, withResources)).toBe(true);
  });
  it('[null] does not match an empty resources array (LocalStack arrays_empty_null_NEG)', () => {
    expect(testEventPattern('{"resources":[null]}', event('{}'))).toBe(false);
  });
});

describe('prefix', () => {
  matching([
    ['matches a string that starts with it', onV('[{"prefix":"us-"}]'), '{"v":"us-east-1"}', true],
    ['does not match otherwise', onV('[{"prefix":"us-"}]'), '{"v":"eu-west-1"}', false],
    ['is case-sensitive (stackd)', onV('[{"prefix":"ab"}]'), '{"v":"AbC"}', false],
    ['only applies to strings (stackd)', onV('[{"prefix":"1"}]'), '{"v":12}', false],
    ['the empty prefix matches every string', onV('[{"prefix":""}]'), '{"v":"anything"}', true],
    ['the empty prefix does not match null', onV('[{"prefix":""}]'), '{"v":null}', false],
    ['equals-ignore-case prefix ignores case', onV('[{"prefix":{"equals-ignore-case":"EventB"}}]'), '{"v":"eventbridge"}', true],
    ['equals-ignore-case prefix still needs the prefix', onV('[{"prefix":{"equals-ignore-case":"EventB"}}]'), '{"v":"bridge"}', false],
    ['equals-ignore-case prefix: ß may be SS (stackd)', onV('[{"prefix":{"equals-ignore-case":"\\u00df"}}]'), '{"v":"SSabc"}', true],
    ['equals-ignore-case prefix: but not ss (stackd)', onV('[{"prefix":{"equals-ignore-case":"\\u00df"}}]'), '{"v":"ssabc"}', false],
  ]);
});

describe('suffix', () => {
  matching([
    ['matches a string that ends with it', onV('[{"suffix":".png"}]'), '{"v":"image.png"}', true],
    ['does not match otherwise', onV('[{"suffix":".png"}]'), '{"v":"image.jpg"}', false],
    ['is case-sensitive', onV('[{"suffix":".png"}]'), '{"v":"image.PNG"}', false],
    ['only applies to strings (stackd)', onV('[{"suffix":"yz"}]'), '{"v":null}', false],
    ['equals-ignore-case suffix ignores case', onV('[{"suffix":{"equals-ignore-case":".png"}}]'), '{"v":"IMAGE.PNG"}', true],
    ['equals-ignore-case suffix: ß may be SS (stackd)', onV('[{"suffix":{"equals-ignore-case":"\\u00df"}}]'), '{"v":"abcSS"}', true],
    ['equals-ignore-case suffix: İ may be i̇ (stackd)', onV('[{"suffix":{"equals-ignore-case":"\\u0130"}}]'), '{"v":"abci\\u0307"}', true],
  ]);
});

describe('equals-ignore-case', () => {
  matching([
    ['matches any casing', onV('[{"equals-ignore-case":"alice"}]'), '{"v":"ALICE"}', true],
    ['must still be the whole string', onV('[{"equals-ignore-case":"alice"}]'), '{"v":"ALICE2"}', false],
    ['only applies to strings (stackd)', onV('[{"equals-ignore-case":"1"}]'), '{"v":1}', false],
    // Each pattern character may appear as its own lower- or upper-case form only (event-ruler EqualsIgnoreCaseParser).
    ['the Kelvin sign is not K (stackd)', onV('[{"equals-ignore-case":"K"}]'), '{"v":"\\u212a"}', false],
    ['the long s is not S (stackd)', onV('[{"equals-ignore-case":"S"}]'), '{"v":"\\u017f"}', false],
    ['ß matches SS (stackd)', onV('[{"equals-ignore-case":"\\u00df"}]'), '{"v":"SS"}', true],
    ['ß does not match ss (stackd)', onV('[{"equals-ignore-case":"\\u00df"}]'), '{"v":"ss"}', false],
    ['Straße matches STRASSE (stackd)', onV('[{"equals-ignore-case":"Stra\\u00dfe"}]'), '{"v":"STRASSE"}', true],
    ['ﬀ matches FF (stackd)', onV('[{"equals-ignore-case":"\\ufb00"}]'), '{"v":"FF"}', true],
    ['İ does not match i (stackd)', onV('[{"equals-ignore-case":"\\u0130"}]'), '{"v":"i"}', false],
    ['İ matches i̇ (stackd)', onV('[{"equals-ignore-case":"\\u0130"}]'), '{"v":"i\\u0307"}', true],
    // Surprising: Java encodes each surrogate of the pattern as "?" (stackd "edge_depth_casefold_😀_*").
    ['an emoji pattern does not match the emoji (stackd)', onV('[{"equals-ignore-case":"\\ud83d\\ude00"}]'), '{"v":"\\ud83d\\ude00"}', false],
    ['an emoji pattern matches "??" (stackd)', onV('[{"equals-ignore-case":"\\ud83d\\ude00"}]'), '{"v":"??"}', true],
  ]);
});

describe('wildcard', () => {
  matching([
    ['* matches any run of characters', onV('[{"wildcard":"Simple*Service"}]'), '{"v":"SimpleQueueService"}', true],
    ['* matches nothing at all', onV('[{"wildcard":"Simple*Service"}]'), '{"v":"SimpleService"}', true],
    ['the rest must match exactly', onV('[{"wildcard":"Simple*Service"}]'), '{"v":"SimpleQueueServices"}', false],
    ['? is an ordinary character (stackd)', onV('[{"wildcard":"a*b?c"}]'), '{"v":"ab?c"}', true],
    ['? does not stand for one character (stackd)', onV('[{"wildcard":"a*b?c"}]'), '{"v":"abxc"}', false],
    ['\\* is a literal star (stackd)', onV(String.raw`[{"wildcard":"a\\*b"}]`), '{"v":"a*b"}', true],
    ['\\* does not match other characters (stackd)', onV(String.raw`[{"wildcard":"a\\*b"}]`), '{"v":"axb"}', false],
    ['\\\\ is a literal backslash (stackd)', onV(String.raw`[{"wildcard":"a\\\\b"}]`), String.raw`{"v":"a\\b"}`, true],
    ['only applies to strings (stackd)', onV('[{"wildcard":"*"}]'), '{"v":1}', false],
    ['* alone matches the empty string', onV('[{"wildcard":"*"}]'), '{"v":""}', true],
    ['many stars stay fast', onV('[{"wildcard":"*a*a*a*a*a*a*a*a*b"}]'), `{"v":"${'a'.repeat(2000)}"}`, false],
  ]);
});

describe('anything-but', () => {
  matching([
    ['matches any other string', onV('[{"anything-but":"initializing"}]'), '{"v":"running"}', true],
    ['does not match the excluded string', onV('[{"anything-but":"initializing"}]'), '{"v":"initializing"}', false],
    ['is case-sensitive (stackd)', onV('[{"anything-but":"abc"}]'), '{"v":"AbC"}', true],
    ['a list excludes every listed string', onV('[{"anything-but":["stopped","overloaded"]}]'), '{"v":"overloaded"}', false],
    ['a list lets other strings through', onV('[{"anything-but":["stopped","overloaded"]}]'), '{"v":"running"}', true],
    ['a number list excludes those numbers', onV('[{"anything-but":[100,200,300]}]'), '{"v":200}', false],
    ['a number list compares numerically', onV('[{"anything-but":[100]}]'), '{"v":100.0}', false],
    ['a number list lets other numbers through', onV('[{"anything-but":[100,200,300]}]'), '{"v":301.8}', true],
    // Surprising: values of other types are "anything but" (stackd "operator_5_*"..."operator_7_*").
    ['a string exclusion matches numbers (stackd)', onV('[{"anything-but":"abc"}]'), '{"v":1}', true],
    ['a string exclusion matches true (stackd)', onV('[{"anything-but":"abc"}]'), '{"v":true}', true],
    ['a string exclusion matches null (stackd; LocalStack test_put_events_with_rule_pattern_anything_but)', onV('[{"anything-but":["no-message"]}]'), '{"v":null}', true],
    ['a number exclusion matches the digit string (stackd)', onV('[{"anything-but":1}]'), '{"v":"1"}', true],
    ['never matches a missing field (LocalStack content_anything_but_string_missing_NEG)', onV('[{"anything-but":"a"}]'), '{"w":"b"}', false],
    ['matches an array with any other element (stackd)', onV('[{"anything-but":"a"}]'), '{"v":["a","b"]}', true],
    ['does not match an array of only excluded values (stackd)', onV('[{"anything-but":"a"}]'), '{"v":["a"]}', false],
    ['does not match an empty array (stackd)', onV('[{"anything-but":"a"}]'), '{"v":[]}', false],
  ]);
});

describe('anything-but with prefix, suffix, equals-ignore-case, wildcard', () => {
  matching([
    ['anything-but prefix excludes strings with the prefix', onV('[{"anything-but":{"prefix":"init"}}]'), '{"v":"initializing"}', false],
    ['anything-but prefix keeps the rest', onV('[{"anything-but":{"prefix":"init"}}]'), '{"v":"running"}', true],
    ['anything-but prefix list (stackd)', onV('[{"anything-but":{"prefix":["a","b"]}}]'), '{"v":"xyz"}', true],
    ['anything-but prefix matches non-strings (stackd)', onV('[{"anything-but":{"prefix":["a","b"]}}]'), '{"v":null}', true],
    ['anything-but suffix excludes strings with the suffix', onV('[{"anything-but":{"suffix":".png"}}]'), '{"v":"a.png"}', false],
    ['anything-but suffix keeps the rest', onV('[{"anything-but":{"suffix":".png"}}]'), '{"v":"a.jpg"}', true],
    ['anything-but equals-ignore-case excludes any casing', onV('[{"anything-but":{"equals-ignore-case":"initializing"}}]'), '{"v":"INITIALIZING"}', false],
    ['anything-but equals-ignore-case list (stackd)', onV('[{"anything-but":{"equals-ignore-case":["ABC","XYZ"]}}]'), '{"v":"ab?c"}', true],
    ['anything-but equals-ignore-case: ß excludes SS (stackd)', onV('[{"anything-but":{"equals-ignore-case":"\\u00df"}}]'), '{"v":"SS"}', false],
    ['anything-but wildcard excludes matching paths', onV('[{"anything-but":{"wildcard":"*/lib/*"}}]'), '{"v":"/usr/lib/x"}', false],
    ['anything-but wildcard keeps the rest', onV('[{"anything-but":{"wildcard":"*/lib/*"}}]'), '{"v":"/usr/bin/x"}', true],
    ['anything-but wildcard list (stackd)', onV('[{"anything-but":{"wildcard":["a*b","x*y"]}}]'), '{"v":"a*b"}', false],
    ['anything-but wildcard matches numbers (stackd)', onV('[{"anything-but":{"wildcard":["a*b","x*y"]}}]'), '{"v":1}', true],
  ]);
});

describe('numeric', () => {
  matching([
    ['> and <= bound a range', onV('[{"numeric":[">",0,"<=",5]}]'), '{"v":5}', true],
    ['the open bound is excluded', onV('[{"numeric":[">",0,"<=",5]}]'), '{"v":0}', false],
    ['above the range', onV('[{"numeric":[">",0,"<=",5]}]'), '{"v":5.000001}', false],
    ['< alone', onV('[{"numeric":["<",10]}]'), '{"v":-3}', true],
    ['<= alone', onV('[{"numeric":["<=",10]}]'), '{"v":10}', true],
    ['>= alone', onV('[{"numeric":[">=",10]}]'), '{"v":10}', true],
    ['>= with <', onV('[{"numeric":[">=",1,"<",2]}]'), '{"v":2}', false],
    ['= with an exponent', onV('[{"numeric":["=",3.018e2]}]'), '{"v":301.8}', true],
    ['only JSON numbers match, not numeric strings (stackd)', onV('[{"numeric":[">",0,"<=",2]}]'), '{"v":"1"}', false],
    ['null is not a number (stackd)', onV('[{"numeric":[">",0]}]'), '{"v":null}', false],
    ['a missing field does not match', onV('[{"numeric":[">",0]}]'), '{}', false],
    ['any array element in range matches', onV('[{"numeric":[">",100]}]'), '{"v":[1,2,300]}', true],
    ['values far outside ±5e9 are compared (stackd numeric_validation_7)', onV('[{"numeric":[">",5000000001]}]'), '{"v":5000000002}', true],
    ['more than six decimals are compared (stackd numeric_validation_8)', onV('[{"numeric":["=",0.1234567]}]'), '{"v":0.1234567}', true],
    ['1e100 is a valid operand (stackd)', onV('[{"numeric":["=",1e100]}]'), '{"v":1e100}', true],
    ['-0 equals 0 (stackd)', onV('[{"numeric":["=",-0]}]'), '{"v":0}', true],
    // A number EventBridge cannot compare as a double only ever matches by its exact text (stackd "edge_precision_*").
    ['an exact literal beyond 2^53 matches its own digits (stackd)', onV('[9007199254740993]'), '{"v":9007199254740993}', true],
    ['an exact literal beyond 2^53 does not match its nearest double (stackd)', onV('[9007199254740993]'), '{"v":9007199254740992}', false],
    ['a literal with too many digits never matches (stackd)', onV('[1.0000000000000001]'), '{"v":1.0000000000000001}', false],
    ['1e309 never matches (stackd)', onV('[1e309]'), '{"v":1e309}', false],
  ]);
});

describe('cidr and IP addresses', () => {
  matching([
    ['an IPv4 address inside the block', onV('[{"cidr":"10.0.0.0/24"}]'), '{"v":"10.0.0.255"}', true],
    ['an IPv4 address outside the block', onV('[{"cidr":"10.0.0.0/24"}]'), '{"v":"10.0.1.0"}', false],
    ['the block base need not be aligned (stackd validation_21)', onV('[{"cidr":"10.0.0.1/24"}]'), '{"v":"10.0.0.7"}', true],
    ['/31 includes both addresses (stackd)', onV('[{"cidr":"10.0.0.1/31"}]'), '{"v":"10.0.0.1"}', true],
    ['an IPv6 address inside the block (stackd)', onV('[{"cidr":"2001:db8::/32"}]'), '{"v":"2001:db8::1"}', true],
    ['an IPv6 address outside the block', onV('[{"cidr":"2001:db8::/32"}]'), '{"v":"2001:db9::1"}', false],
    ['IPv6 is matched whatever its spelling', onV('[{"cidr":"2001:db8::/32"}]'), '{"v":"2001:0DB8:0000:0000:0000:0000:0000:0001"}', true],
    ['an IPv4 block does not match an unrelated IPv6 address (stackd)', onV('[{"cidr":"10.0.0.0/24"}]'), '{"v":"2001:db8::1"}', false],
    ['a non-address string does not match (stackd)', onV('[{"cidr":"10.0.0.0/24"}]'), '{"v":"abc"}', false],
    ['null does not match (stackd)', onV('[{"cidr":"10.0.0.0/24"}]'), '{"v":null}', false],
    // Surprising, from event-ruler's byte-range matching (stackd "edge_cidr_*", "edge_depth_cidr_*").
    ['an IPv4 block matches an IPv6 address whose leading bytes fall in it (stackd)', onV('[{"cidr":"10.0.0.0/8"}]'), '{"v":"a00::1"}', true],
    ['::/0 matches an IPv4 address (stackd)', onV('[{"cidr":"::/0"}]'), '{"v":"10.0.0.1"}', true],
    ['0.0.0.0/0 matches an IPv6 address (stackd)', onV('[{"cidr":"0.0.0.0/0"}]'), '{"v":"2001:db8::1"}', true],
    ['/0 matches the JSON number 1 (stackd)', onV('[{"cidr":"10.0.0.1/0"}]'), '{"v":1}', true],
    ['an IPv4-mapped IPv6 address counts as IPv4', onV('[{"cidr":"10.0.0.0/24"}]'), '{"v":"::ffff:a00:5"}', true],
  ]);
});

describe('exists', () => {
  matching([
    ['exists: true matches a present field', onV('[{"exists":true}]'), '{"v":"pending"}', true],
    ['exists: true does not match a missing field', onV('[{"exists":true}]'), '{}', false],
    ['exists: false matches a missing field', onV('[{"exists":false}]'), '{}', true],
    ['exists: false does not match a present field', onV('[{"exists":false}]'), '{"v":"x"}', false],
    // null is a value: it exists (stackd "exists_True_{\"v\": null}").
    ['exists: true matches null (stackd)', onV('[{"exists":true}]'), '{"v":null}', true],
    ['exists: false does not match null (stackd)', onV('[{"exists":false}]'), '{"v":null}', false],
    // Only leaves exist (user guide "Exists matching only works on leaf nodes"; stackd).
    ['exists: true does not match an object (stackd)', onV('[{"exists":true}]'), '{"v":{"c1":100}}', false],
    ['exists: false matches an object (user guide)', onV('[{"exists":false}]'), '{"v":{"c1":100}}', true],
    ['exists: true does not match an empty array (stackd)', onV('[{"exists":true}]'), '{"v":[]}', false],
    ['exists: false matches an empty array (stackd)', onV('[{"exists":false}]'), '{"v":[]}', true],
    ['exists: true matches [null] (stackd)', onV('[{"exists":true}]'), '{"v":[null]}', true],
    ['exists: true does not match [[],{}] (stackd)', onV('[{"exists":true}]'), '{"v":[[],{}]}', false],
    ['exists: true on an object-typed key (LocalStack exists_dynamodb_NEG)', '{"detail":{"presentKey":[{"exists":true}]}}', '{"presentKey":{"S":"x"}}', false],
    ['exists: false or a value (stackd logic_*)', onV('[{"exists":false},"a"]'), '{"v":"a"}', true],
    ['exists: false or anything-but (LocalStack or-exists-parent)', '{"detail":{"h":{"S":[{"anything-but":["roses"]},{"exists":false}]}}}', '{"p":{"N":"789"}}', true],
    // Absence is judged against the array element already chosen for earlier keys (event-ruler ACFinder; stackd "correlated_absent_*").
    ['absent in the element that matched the other key (stackd)', '{"detail":{"v":{"a":[1],"b":[{"exists":false}]}}}', '{"v":[{"a":1},{"b":2}]}', true],
    ['present in the element that matched the other key (stackd)', '{"detail":{"v":{"a":[1],"b":[{"exists":false}]}}}', '{"v":[{"a":1,"b":0},{"a":0,"b":2}]}', false],
    // …and keys are taken in path order, so an earlier absent key sees every element (stackd "edge_absence_*").
    ['an absent key alone sees every element (stackd)', '{"detail":{"v":{"a":[{"exists":false}]}}}', '{"v":[{"a":1},{"b":2}]}', false],
    ['two absent keys over separate elements (stackd)', '{"detail":{"v":{"a":[{"exists":false}],"b":[{"exists":false}]}}}', '{"v":[{"a":1},{"b":2}]}', false],
    ['absent keys over an empty array (stackd)', '{"detail":{"v":{"a":[{"exists":false}],"b":[{"exists":false}]}}}', '{"v":[]}', true],
  ]);
});

describe('$or', () => {
  const or = '{"source":["spool.test"],"$or":[{"detail":{"a":[1]}},{"detail":{"b":[2]}}]}';
  matching([
    ['either alternative matches', or, '{"b":2}', true],
    ['the first alternative matches', or, '{"a":1}', true],
    ['neither alternative', or, '{"a":2,"b":1}', false],
    ['$or inside a nested object (event-ruler README)', '{"detail":{"$or":[{"a":[1]},{"b":[2]}]}}', '{"b":2}', true],
    ['an alternative can hold several fields (AND inside OR)', '{"detail":{"$or":[{"a":[1],"c":[3]},{"b":[2]}]}}', '{"a":1,"c":4}', false],
    ['nested $or', '{"detail":{"$or":[{"a":[1]},{"b":[2],"$or":[{"c":[3]},{"d":[4]}]}]}}', '{"b":2,"d":4}', true],
    ['parallel $ors are ANDed', '{"$or":[{"source":["spool.test"]},{"region":["x"]}],"detail":{"$or":[{"a":[1]},{"b":[2]}]}}', '{"a":1}', true],
    ['$or with exists (LocalStack or-exists)', '{"detail":{"$or":[{"a":[{"exists":true}]},{"b":["x"]}]}}', '{"a":0}', true],
    // A later key overrides an earlier one on the same path in each alternative, so key order matters (stackd "logic_*").
    ['a key before $or is overridden by the alternative (stackd)', '{"detail":{"a":[0],"$or":[{"a":[1]},{"b":[2]}]}}', '{"a":1,"c":3}', true],
    ['a key after $or overrides every alternative (stackd)', '{"detail":{"$or":[{"a":[1]},{"b":[2]}],"a":[0]}}', '{"a":1,"c":3}', false],
    ['a key after $or applies to every alternative (stackd)', '{"detail":{"$or":[{"a":[1]},{"b":[2]}],"a":[0]}}', '{"a":0,"b":2,"c":3}', true],
    ['512 combinations are fine (stackd edge_or_combinations_512)',
      `{"detail":{${Array.from({ length: 9 }, (_, i) => `"g${i}":{"$or":[{"v":[1]},{"v":[2]}]}`).join(',')}}}`, '{}', false],
  ]);
});

describe('duplicate keys and overriding', () => {
  matching([
    // User guide: "if you include a key more than once the last reference will be the one used".
    ['the last duplicate key wins (stackd)', '{"detail":{"v":[0],"v":[1]}}', '{"v":1}', true],
    ['the earlier duplicate is ignored (stackd)', '{"detail":{"v":[0],"v":[1]}}', '{"v":0}', false],
    ['a dotted key and a nested key are one path; the later wins (stackd)', '{"detail":{"a.b":[1],"a":{"b":[2]}}}', '{"a":{"b":2}}', true],
    ['…in either order (stackd)', '{"detail":{"a":{"b":[2]},"a.b":[1]}}', '{"a":{"b":1}}', true],
    ['duplicate nested objects: the later wins (stackd edge_duplicate_objects)', '{"detail":{"a":{"x":[1]},"a":{"y":[2]}}}', '{"a":{"y":2}}', false],
    ['…so both must match (stackd edge_duplicate_objects_both)', '{"detail":{"a":{"x":[1]},"a":{"y":[2]}}}', '{"a":{"x":1,"y":2}}', true],
    // Every duplicate key of the event is a value of that field (stackd "edge_duplicate_event_*").
    ['an event with a duplicated key matches the first value (stackd)', onV('[0]'), '{"v":0,"v":1}', true],
    ['an event with a duplicated key matches the second value (stackd)', onV('[1]'), '{"v":0,"v":1}', true],
  ]);
});

// Inferred from event-ruler's ByteMachine.transitionOn, not from native observations: a field whose
// list holds a numeric test reads numbers only as numbers, and otherwise a field holding an IP test
// reads IP-address strings only as addresses, before any test runs.
describe('per-field value conversion (inferred from event-ruler source)', () => {
  matching([
    ['a number literal next to a too-precise one still matches numerically', onV('[9007199254740993, 1]'), '{"v":1.0}', true],
    ['the too-precise literal still matches its own digits', onV('[9007199254740993, 1]'), '{"v":9007199254740993}', true],
    ['an IP value hides addresses from a prefix on the same field', onV('["10.0.0.1",{"prefix":"10."}]'), '{"v":"10.0.0.5"}', false],
    ['…but not other strings', onV('["10.0.0.1",{"prefix":"10."}]'), '{"v":"10.x"}', true],
    ['a numeric test turns off address reading on the same field', onV('[{"cidr":"10.0.0.0/8"},{"numeric":[">",100]}]'), '{"v":"10.0.0.5"}', false],
  ]);
});

describe('invalid patterns (400, the reason EventBridge gives)', () => {
  const invalid: Array<[pattern: string, reason: string]> = [
    ['[]', 'Filter is not an object'],
    ['null', 'Filter is not an object'],
    ['{}', 'Empty objects are not allowed'],
    ['{"detail":{}}', 'Empty objects are not allowed'],
    ['{"int":42}', '"int" must be an object or an array'],
    ['{"string":"my-value"}', '"string" must be an object or an array'],
    ['{"detail":{"v":null,"v":[1]}}', '"v" must be an object or an array'],
    ['{"detail":{"a":{},"a":{"b":[1]}}}', 'Empty objects are not allowed'],
    ['{"resources":[]}', 'Empty arrays are not allowed'],
    [onV('[[1]]'), 'Match value must be String, number, true, false, or null'],
    [onV('[{}]'), 'Match expression name not found'],
    [onV('[{"unknown":"x"}]'), 'Unrecognized match type unknown'],
    [onV('[{"EXISTS":true}]'), 'Unrecognized match type EXISTS'],
    [onV('[{"prefix":"a","suffix":"z"}]'), 'Only one key allowed in match expression'],
    [onV('[{"prefix":"a","prefix":"b"}]'), 'Only one key allowed in match expression'],
    [onV('[{"prefix":1}]'), 'prefix match pattern must be a string'],
    [onV('[{"prefix":["a"]}]'), 'prefix match pattern must be a string'],
    [onV('[{"prefix":{"equals-ignore-case":["a"]}}]'), 'equals-ignore-case match pattern must be a string'],
    [onV('[{"prefix":{"wildcard":"a"}}]'), 'Unsupported prefix pattern: wildcard'],
    [onV('[{"suffix":123}]'), 'suffix match pattern must be a string'],
    [onV('[{"suffix":{}}]'), 'Suffix expression name not found'],
    [onV('[{"equals-ignore-case":["a"]}]'), 'equals-ignore-case match pattern must be a string'],
    [onV('[{"equals-ignore-case":{"prefix":"ec2"}}]'), 'equals-ignore-case match pattern must be a string'],
    [onV('[{"wildcard":123}]'), 'wildcard match pattern must be a string'],
    [onV('[{"wildcard":"a**b"}]'), 'Consecutive wildcard characters at pos 2'],
    // Positions are UTF-8 byte offsets into the quoted value (LocalStack content_wildcard_repeating_star_EXC).
    [onV('[{"wildcard":"arn:aws:events:us-east-1:**:event-bus/*"}]'), 'Consecutive wildcard characters at pos 26'],
    [onV('[{"wildcard":"é**"}]'), 'Consecutive wildcard characters at pos 3'],
    [onV(String.raw`[{"wildcard":"a\\qb"}]`), 'Invalid escape character at pos 2'],
    [onV(String.raw`[{"wildcard":"a\\"}]`), 'Invalid escape character at pos 2'],
    [onV('[{"exists":1}]'), 'exists match pattern must be either true or false.'],
    [onV('[{"exists":"true"}]'), 'exists match pattern must be either true or false.'],
    [onV('[{"anything-but":[]}]'), 'Inside anything but list, either all values are number or string, mixed type is not supported'],
    [onV('[{"anything-but":[1,"a"]}]'), 'Inside anything but list, either all values are number or string, mixed type is not supported'],
    [onV('[{"anything-but":[null]}]'), 'Inside anything but list, start|null|boolean is not supported.'],
    [onV('[{"anything-but":true}]'), 'Value of anything-but must be an array or single string/number value.'],
    [onV('[{"anything-but":null}]'), 'Value of anything-but must be an array or single string/number value.'],
    [onV('[{"anything-but":{"prefix":{"equals-ignore-case":"file"}}}]'), 'Value of anything-but must be an array or single string/number value.'],
    [onV('[{"anything-but":{"exists":true}}]'), 'Unsupported anything-but pattern: exists'],
    [onV('[{"anything-but":{}}]'), 'Anything-But expression name not found'],
    [onV('[{"anything-but":{"prefix":""}}]'), 'Null prefix/suffix not allowed'],
    [onV('[{"anything-but":{"prefix":123}}]'), 'prefix/suffix match pattern must be a string'],
    [onV('[{"anything-but":{"suffix":[123,".txt"]}}]'), 'prefix/suffix match pattern must be a string'],
    [onV('[{"anything-but":{"equals-ignore-case":[123,456]}}]'), 'Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported.'],
    [onV('[{"anything-but":{"wildcard":[123,"*/dir/*"]}}]'), 'wildcard match pattern must be a string'],
    [onV('[{"anything-but":{"wildcard":"a**"}}]'), 'Consecutive wildcard characters at pos 2'],
    [onV('[{"anything-but":"a","prefix":"b"}]'), 'Too many elements in numeric expression'],
    [onV('[{"anything-but":9007199254740993}]'), 'Cannot compare number : 9007199254740993'],
    [onV('[{"numeric":5}]'), 'Value of numeric must be an array.'],
    [onV('[{"numeric":[]}]'), 'Invalid member in numeric match: ]'],
    [onV('[{"numeric":[5]}]'), 'Invalid member in numeric match: 5'],
    [onV('[{"numeric":["!=",1]}]'), 'Unrecognized numeric range operator: !='],
    [onV('[{"numeric":[">","1"]}]'), 'Value of > must be numeric'],
    [onV('[{"numeric":["=","1"]}]'), 'Value of equals must be numeric'],
    [onV('[{"numeric":[">",0,"<"]}]'), 'Value of < must be numeric'],
    [onV('[{"numeric":[">",0,">",0]}]'), 'Bad numeric range operator: >'],
    [onV('[{"numeric":[">",0,5]}]'), 'Bad value in numeric range: 5'],
    [onV('[{"numeric":["=",1,"<",3]}]'), 'Too many elements in numeric expression'],
    [onV('[{"numeric":["<",2,">",0]}]'), 'Too many elements in numeric expression'],
    [onV('[{"numeric":[">",0,"<",5,"<",6]}]'), 'Too many terms in numeric range expression'],
    [onV('[{"numeric":[">",3,"<",1]}]'), 'Bottom must be less than top'],
    [onV('[{"numeric":[">=",1,"<=",1]}]'), 'Bottom must be less than top'],
    [onV('[{"numeric":["NUMERIC",1]}]'), 'Unrecognized numeric range operator: NUMERIC'],
    [onV('[{"numeric":["=",9007199254740993]}]'), 'Cannot compare number : 9007199254740993'],
    [onV('[{"numeric":["=",1.0000000000000001]}]'), 'Cannot compare number : 1.0000000000000001'],
    [onV('[{"numeric":["=",1e309]}]'), 'Cannot compare number : 1e309'],
    [onV('[{"numeric":["=",0.1234567890123456789]}]'), 'Cannot compare number : 0.1234567890123456789'],
    [onV('[{"numeric":[">",1],"x":1}]'), 'Too many elements in numeric expression'],
    [onV('[{"cidr":"10.0.0.1"}]'), "Malformed CIDR, one '/' required"],
    [onV('[{"cidr":"10.0.0.0/x"}]'), 'Malformed CIDR, mask bits must be an integer'],
    [onV('[{"cidr":"10.0.0.0/-1"}]'), 'Malformed CIDR, mask bits must not be negative'],
    [onV('[{"cidr":"xx.11.xx/24"}]'), 'Nonstandard IP address: xx.11.xx'],
    [onV('[{"cidr":"xxxx:db8:1234:1a00::/64"}]'), 'Nonstandard IP address: xxxx:db8:1234:1a00::'],
    [onV('[{"cidr":"::ffff:192.0.2.0/120"}]'), 'Nonstandard IP address: ::ffff:192.0.2.0'],
    [onV('[{"cidr":"300.0.0.0/8"}]'), 'Invalid IP address: 300.0.0.0'],
    // Surprising: a single-address block is refused (event-ruler CIDR.java; stackd "edge_depth_cidr_*").
    [onV('[{"cidr":"10.0.0.1/32"}]'), 'IPv4 mask bits must be < 32'],
    [onV('[{"cidr":"2001:db8::1/128"}]'), 'IPv6 mask bits must be < 128'],
    [onV('[{"cidr":["bad-type"]}]'), 'prefix match pattern must be a string'],
    [onV('[{"exactly":1}]'), 'exact match pattern must be a string'],
    ['{"$or":[]}', 'There must have at least 2 Objects in $or relationship.'],
    ['{"$or":[{"source":["a"]}]}', 'There must have at least 2 Objects in $or relationship.'],
    ['{"$or":[1,2]}', 'Only JSON object is allowed in array of $or relationship.'],
    ['{"$or":{"source":["a"]}}', 'It must be an Array followed with $or.'],
    ['{"$or":[{"source":["a"]},{}]}', 'Empty objects are not allowed'],
    ['{"$or":[{"prefix":["a"]},{"source":["b"]}]}', 'prefix is Ruler reserved fieldName which cannot be used inside $or.'],
    ['{"detail":{"$or":[{"nested":{"numeric":["x"]}},{"v":["x"]}]}}', 'numeric is Ruler reserved fieldName which cannot be used inside $or.'],
    ['{"detail":{"$or":[{"nested":{"exactly":["x"]}},{"v":["x"]}]}}', 'exactly is Ruler reserved fieldName which cannot be used inside $or.'],
    [`{"detail":{${Array.from({ length: 10 }, (_, i) => `"g${i}":{"$or":[{"v":[1]},{"v":[2]}]}`).join(',')}}}`, 'Or operator is producing over 1000 rule combinations'],
  ];
  it.each(invalid)('%s → %s', (pattern, reason) => {
    expect(reasonOf(() => parseEventPattern(pattern))).toBe(`Event pattern is not valid. Reason: ${reason}`);
  });

  it('reports malformed JSON as an invalid pattern', () => {
    expect(reasonOf(() => parseEventPattern("{'bad': 'quotation'}"))).toMatch(/^Event pattern is not valid\. Reason: /);
    expect(reasonOf(() => parseEventPattern('{"a":[1]} trailing'))).toMatch(/^Event pattern is not valid\. Reason: /);
  });
  it('lists the problem in details', () => {
    try {
      parseEventPattern('{"detail":{"v":[]}}');
    } catch (e) {
      expect((e as ValidationError).details).toEqual(['Empty arrays are not allowed']);
      expect((e as ValidationError).code).toBe('validation_failed');
    }
  });
  it('reports the first problem in document order', () => {
    expect(reasonOf(() => parseEventPattern('{"a":[{"prefix":1}],"b":[]}'))).toContain('prefix match pattern must be a string');
  });
  it('accepts a reserved word as an ordinary field name outside $or', () => {
    expect(testEventPattern('{"detail":{"prefix":["x"]}}', event('{"prefix":"x"}'))).toBe(true);
  });
  it('accepts the undocumented "exactly" operator, which never treats its string as an IP', () => {
    expect(testEventPattern(onV('[{"exactly":"10.0.0.1"}]'), event('{"v":"10.0.0.1"}'))).toBe(true);
    expect(testEventPattern(onV('[{"exactly":"10.0.0.1"}]'), event('{"v":"10.0.0.01"}'))).toBe(false);
  });
  it('refuses an empty anything-but operator list (EventBridge answers 500 InternalFailure; stackd validation_15)', () => {
    expect(reasonOf(() => parseEventPattern(onV('[{"anything-but":{"prefix":[]}}]')))).toContain('must not be empty');
  });
});

describe('testEventPattern: the Event parameter', () => {
  const full = {
    version: '0',
    id: '1',
    'detail-type': 'probe',
    source: 'spool.test',
    account: '123456789012',
    time: '2024-05-01T12:00:00Z',
    region: 'us-east-1',
    resources: [],
    detail: {},
  };
  const pattern = '{"source":["spool.test"]}';

  it('requires id, account, source, time, region and detail-type', () => {
    expect([...REQUIRED_EVENT_FIELDS].sort()).toEqual(['account', 'detail-type', 'id', 'region', 'source', 'time']);
    for (const field of REQUIRED_EVENT_FIELDS) {
      const { [field]: _dropped, ...rest } = full;
      const message = reasonOf(() => testEventPattern(pattern, JSON.stringify(rest)));
      expect(message).toMatch(/^Parameter Event is not valid\./);
      expect(message).toContain(field);
    }
  });
  it('names every missing field at once', () => {
    try {
      testEventPattern(pattern, '{"detail":{"v":1}}');
    } catch (e) {
      expect((e as ValidationError).details).toHaveLength(6);
    }
  });
  // The API reference lists resources as mandatory, but EventBridge accepts events without it (stackd).
  it('does not require resources, version or detail', () => {
    const { resources: _r, version: _v, detail: _d, ...rest } = full;
    expect(testEventPattern(pattern, JSON.stringify(rest))).toBe(true);
  });
  it('accepts null or non-object detail (stackd)', () => {
    expect(testEventPattern(pattern, JSON.stringify({ ...full, detail: null }))).toBe(true);
    expect(testEventPattern(pattern, JSON.stringify({ ...full, detail: 1 }))).toBe(true);
  });
  it('accepts other types for the envelope fields but then matches on them as they are (stackd)', () => {
    expect(testEventPattern(pattern, JSON.stringify({ ...full, source: 1 }))).toBe(false);
    expect(testEventPattern(pattern, JSON.stringify({ ...full, account: 1, region: 1 }))).toBe(true);
  });
  it('requires a valid time (stackd edge_envelope_bad_time)', () => {
    expect(reasonOf(() => testEventPattern(pattern, JSON.stringify({ ...full, time: 'not-a-time' })))).toBe('Parameter Event is not valid. Reason: Invalid time.');
    expect(reasonOf(() => testEventPattern(pattern, JSON.stringify({ ...full, time: 1 })))).toBe('Parameter Event is not valid. Reason: Invalid time.');
    expect(reasonOf(() => testEventPattern(pattern, JSON.stringify({ ...full, time: '2024-02-30T00:00:00Z' })))).toContain('Invalid time');
    expect(testEventPattern(pattern, JSON.stringify({ ...full, time: '2024-05-01T12:00:00.123+02:00' }))).toBe(true);
  });
  it.each(['{', '[]', '1', '"text"'])('rejects %s as not an event object (stackd edge_envelope_*)', (text) => {
    expect(reasonOf(() => testEventPattern(pattern, text))).toMatch(/^Parameter Event is not valid\./);
  });
  it('validates the pattern before the event', () => {
    expect(reasonOf(() => testEventPattern('{}', '{'))).toMatch(/^Event pattern is not valid/);
  });
});

describe('matchesEventPattern and parseEventPattern with JavaScript values', () => {
  const pattern = parseEventPattern({
    source: ['aws.ec2'],
    detail: { state: [{ 'anything-but': 'pending' }], 'c-count': [{ numeric: ['>', 0, '<=', 5] }], 'source-ip': [{ cidr: '10.0.0.0/8' }] },
  });
  it('matches an object event', () => {
    expect(matchesEventPattern(pattern, { source: 'aws.ec2', detail: { state: 'running', 'c-count': 5, 'source-ip': '10.0.0.33' } })).toBe(true);
  });
  it('does not match when one field fails', () => {
    expect(matchesEventPattern(pattern, { source: 'aws.ec2', detail: { state: 'pending', 'c-count': 5, 'source-ip': '10.0.0.33' } })).toBe(false);
  });
  it('reads an event given as JSON text', () => {
    expect(matchesEventPattern(pattern, '{"source":"aws.ec2","detail":{"state":"running","c-count":1,"source-ip":"10.1.2.3"}}')).toBe(true);
  });
  it('does not require an EventBridge envelope', () => {
    expect(matchesEventPattern(parseEventPattern({ a: [1] }), { a: [0, 1] })).toBe(true);
  });
  it('matches nothing against a non-object event', () => {
    expect(matchesEventPattern(parseEventPattern({ a: [{ exists: false }] }), [1])).toBe(false);
    expect(matchesEventPattern(parseEventPattern({ a: [{ exists: false }] }), undefined)).toBe(false);
  });
  it('rejects event text that is not JSON', () => {
    expect(reasonOf(() => matchesEventPattern(pattern, '{"a":'))).toMatch(/^Parameter Event is not valid\./);
  });
  it('rejects a pattern value that is not JSON', () => {
    expect(reasonOf(() => parseEventPattern({ a: [1n] }))).toMatch(/^Event pattern is not valid/);
  });
  it('compiles $or into sorted branches', () => {
    const compiled = parseEventPattern({ z: [1], $or: [{ a: [1] }, { b: [2] }] });
    expect(compiled.branches.map((b) => b.map((f) => f.path))).toEqual([
      ['a', 'z'],
      ['b', 'z'],
    ]);
  });
  it('can be reused across events', () => {
    const p = parseEventPattern('{"detail":{"state":["running"]}}');
    expect([{ state: 'running' }, { state: 'stopped' }].map((detail) => matchesEventPattern(p, { detail }))).toEqual([true, false]);
  });
});
