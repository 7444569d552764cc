import { SpoolError } from '../../errors.js';

/**
 * A static check of migration SQL against what Aurora DSQL rejects, so an incompatible
 * step fails in a unit test (and before `migrate()` touches a cluster), not at deploy.
 *
 * Sources: the DSQL user guide ("Unsupported PostgreSQL features", "Supported SQL",
 * "Supported data types", "Asynchronous indexes", "DDL and distributed transactions").
 * Some rules are project policy stricter than the newest DSQL: recent DSQL releases
 * accept foreign keys and sequences/identity columns with a large CACHE, but Spool's
 * schema stays free of them so the same migrations run on every DSQL version and on
 * SQLite, and so no write takes an implicit key-share lock on another table's rows.
 *
 * It is a scanner, not a parser: comments, string literals and quoted identifiers are
 * blanked first, then each statement is matched against keyword patterns. It errs on
 * the side of flagging.
 */
export type DsqlRule =
  | 'multiple-statements'
  | 'foreign-key'
  | 'sequence'
  | 'identity'
  | 'truncate'
  | 'index-not-async'
  | 'index-sort-order'
  | 'index-schema-qualified'
  | 'temporary-table'
  | 'trigger'
  | 'extension'
  | 'user-defined-type'
  | 'materialized-view'
  | 'tablespace'
  | 'database'
  | 'non-sql-function'
  | 'create-table-as'
  | 'inherits'
  | 'partition'
  | 'collate'
  | 'exclusion-constraint'
  | 'unsupported-column-type'
  | 'array-column'
  | 'alter-column-type'
  | 'transaction-control'
  | 'vacuum';

export interface DsqlProblem {
  readonly rule: DsqlRule;
  readonly message: string;
}

interface Check {
  readonly rule: DsqlRule;
  readonly pattern: RegExp;
  readonly message: string;
  /** Only statements matching this are checked (default: all). */
  readonly within?: RegExp;
}

const INDEX = /^\s*CREATE\s+(?:UNIQUE\s+)?INDEX\b/i;
const TABLE_DDL = /^\s*(?:CREATE|ALTER)\s+(?:(?:GLOBAL|LOCAL)\s+)?(?:(?:TEMP|TEMPORARY|UNLOGGED)\s+)?TABLE\b/i;
const CREATE_TABLE = /^\s*CREATE\s+(?:(?:GLOBAL|LOCAL)\s+)?(?:(?:TEMP|TEMPORARY|UNLOGGED)\s+)?TABLE\b/i;

const CHECKS: readonly Check[] = [
  { rule: 'foreign-key', pattern: /\bFOREIGN\s+KEY\b|\bREFERENCES\b/i, message: 'foreign keys: keep referential integrity in the application' },
  { rule: 'sequence', pattern: /\bCREATE\s+SEQUENCE\b|\bNEXTVAL\s*\(|\b(?:SMALL|BIG)?SERIAL[248]?\b/i, message: 'sequences and SERIAL: use application-generated UUIDs' },
  { rule: 'identity', pattern: /\bGENERATED\s+(?:ALWAYS|BY\s+DEFAULT)\s+AS\s+IDENTITY\b/i, message: 'identity columns: use application-generated UUIDs' },
  { rule: 'truncate', pattern: /^\s*TRUNCATE\b/i, message: 'TRUNCATE is not supported: DELETE in batches' },
  { rule: 'index-not-async', pattern: /^\s*CREATE\s+(?:UNIQUE\s+)?INDEX\b(?!\s+ASYNC\b)/i, message: 'CREATE INDEX must be CREATE INDEX ASYNC on DSQL' },
  { rule: 'index-sort-order', within: INDEX, pattern: /\b(?:ASC|DESC)\b/i, message: 'ASC/DESC is not supported in CREATE INDEX ASYNC' },
  {
    rule: 'index-schema-qualified',
    within: INDEX,
    pattern: /^\s*CREATE\s+(?:UNIQUE\s+)?INDEX\s+(?:ASYNC\s+)?(?:IF\s+NOT\s+EXISTS\s+)?\w+\s*\./i,
    message: 'an index name cannot be schema-qualified (DSQL puts it in its table schema)',
  },
  { rule: 'temporary-table', pattern: /^\s*CREATE\s+(?:(?:GLOBAL|LOCAL)\s+)?(?:TEMP|TEMPORARY)\s+TABLE\b/i, message: 'temporary tables are not supported' },
  { rule: 'trigger', pattern: /^\s*CREATE\s+(?:OR\s+REPLACE\s+)?(?:CONSTRAINT\s+|EVENT\s+)?TRIGGER\b/i, message: 'triggers are not supported' },
  { rule: 'extension', pattern: /^\s*CREATE\s+EXTENSION\b/i, message: 'extensions are not supported' },
  { rule: 'user-defined-type', pattern: /^\s*(?:CREATE|ALTER)\s+TYPE\b/i, message: 'CREATE TYPE (enums, composites) is not supported: use text with a CHECK constraint' },
  { rule: 'materialized-view', pattern: /^\s*CREATE\s+MATERIALIZED\s+VIEW\b/i, message: 'materialized views are not supported' },
  { rule: 'tablespace', pattern: /^\s*CREATE\s+TABLESPACE\b|\bTABLESPACE\s+\w/i, message: 'tablespaces are not supported' },
  { rule: 'database', pattern: /^\s*CREATE\s+DATABASE\b/i, message: 'a DSQL cluster has one database (postgres)' },
  { rule: 'non-sql-function', pattern: /\bLANGUAGE\s+(?!SQL\b)\w+|^\s*DO\b/i, message: 'only LANGUAGE SQL functions are supported (no PL/pgSQL, no DO blocks)' },
  { rule: 'create-table-as', within: CREATE_TABLE, pattern: /^\s*CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?[\w."]+\s+AS\b/i, message: 'CREATE TABLE ... AS SELECT is not supported' },
  { rule: 'inherits', within: CREATE_TABLE, pattern: /\bINHERITS\s*\(/i, message: 'table inheritance is not supported' },
  { rule: 'partition', within: TABLE_DDL, pattern: /\bPARTITION\s+(?:BY|OF)\b/i, message: 'partitioned tables are not supported' },
  { rule: 'collate', within: TABLE_DDL, pattern: /\bCOLLATE\b/i, message: 'COLLATE is not supported (DSQL uses the C collation)' },
  { rule: 'exclusion-constraint', within: TABLE_DDL, pattern: /\bEXCLUDE\s+(?:USING\b|\()/i, message: 'exclusion constraints are not supported' },
  {
    rule: 'unsupported-column-type',
    within: TABLE_DDL,
    // In type position only (after a column name that follows `(`, `,` or ADD [COLUMN]), so a column named `path` is fine.
    pattern: new RegExp(
      String.raw`(?:[(,]|\bADD\s+(?:COLUMN\s+)?(?:IF\s+NOT\s+EXISTS\s+)?)\s*(?:"x"|\w+)\s+` +
        String.raw`(?:JSONB|INET|CIDR|MACADDR8?|MONEY|XML|TSVECTOR|TSQUERY|POINT|LINE|LSEG|BOX|PATH|POLYGON|CIRCLE|(?:INT4|INT8|NUM|TS|TSTZ|DATE)RANGE)\b`,
      'i',
    ),
    message: 'column type not supported by DSQL (jsonb, network, geometric, range and text-search types are query-time only): store JSON as text',
  },
  { rule: 'array-column', within: TABLE_DDL, pattern: /\[\s*\d*\s*\]|\bARRAY\b/i, message: 'array columns are not supported' },
  { rule: 'alter-column-type', within: TABLE_DDL, pattern: /\bALTER\s+(?:COLUMN\s+)?\w+\s+(?:SET\s+DATA\s+)?TYPE\b/i, message: 'ALTER COLUMN ... TYPE is not supported: add a column and backfill' },
  {
    rule: 'transaction-control',
    pattern: /^\s*(?:BEGIN|START\s+TRANSACTION|COMMIT|ROLLBACK|SAVEPOINT|RELEASE|SET\s+TRANSACTION)\b|\bISOLATION\s+LEVEL\b/i,
    message: 'a step must not control transactions (the migrator does; DSQL has no SAVEPOINT or SET TRANSACTION)',
  },
  { rule: 'vacuum', pattern: /^\s*VACUUM\b/i, message: 'VACUUM is not supported (and not needed)' },
];

/** Every problem DSQL would have with `sql`, one migration step's text. Empty = compatible. */
export function findDsqlProblems(sql: string): DsqlProblem[] {
  const statements = blankLiterals(sql)
    .split(';')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  const problems: DsqlProblem[] = [];
  if (statements.length > 1) {
    problems.push({ rule: 'multiple-statements', message: `${statements.length} statements in one step: DSQL allows one DDL statement per transaction and no DML with it` });
  }
  for (const statement of statements) {
    for (const check of CHECKS) {
      if (check.within !== undefined && !check.within.test(statement)) continue;
      if (check.pattern.test(statement) && !problems.some((p) => p.rule === check.rule)) problems.push({ rule: check.rule, message: check.message });
    }
  }
  return problems;
}

/** A migration that Aurora DSQL would reject; `details` lists each step's problems. */
export class DsqlIncompatibleMigrationError extends SpoolError {
  constructor(problems: ReadonlyArray<{ id: string; problems: readonly DsqlProblem[] }>) {
    const lines = problems.flatMap(({ id, problems: list }) => list.map((p) => `${id}: ${p.rule}: ${p.message}`));
    super('dsql_incompatible_migration', `migrations incompatible with Aurora DSQL:\n  - ${lines.join('\n  - ')}`, { details: problems });
  }
}

/** Throws {@link DsqlIncompatibleMigrationError} naming every incompatible step. */
export function assertDsqlCompatible(steps: ReadonlyArray<{ id: string; sql: string }>): void {
  const found = steps.map(({ id, sql }) => ({ id, problems: findDsqlProblems(sql) })).filter((s) => s.problems.length > 0);
  if (found.length > 0) throw new DsqlIncompatibleMigrationError(found);
}

/**
 * Replaces comments with a space, and the contents of string literals, dollar-quoted
 * bodies and quoted identifiers with nothing, so keywords inside them are not matched
 * and a `;` inside them does not split a statement.
 */
function blankLiterals(sql: string): string {
  return sql.replace(/--[^\n]*|\/\*[\s\S]*?\*\/|'(?:[^']|'')*'|"(?:[^"]|"")*"|(\$[A-Za-z_]*\$)[\s\S]*?\1/g, (match) => {
    if (match.startsWith('--') || match.startsWith('/*')) return ' ';
    if (match.startsWith("'")) return "''";
    if (match.startsWith('"')) return '"x"';
    return '$$$$';
  });
}
