import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';

/** Where the embedded object store keeps result documents: `<dataDir>/objects/results/results/<jobId>.json.obj`. */
export const resultsDir = (dataDir: string): string => join(dataDir, 'objects', 'results', 'results');

/** One result document file, as found on disk. */
export interface ResultFile {
  /** The job id in the file name. */
  readonly fileId: string;
  readonly ino: number;
  /** The `jobId` inside the document; undefined when the file does not parse. */
  readonly jobId: string | undefined;
  readonly completedAt: string | undefined;
  readonly output: unknown;
}

/**
 * Reads every result document. An object file is one JSON header line (content type,
 * size), a newline, then the body: `{"jobId","task","completedAt","output"}`.
 */
export function readResults(dataDir: string): ResultFile[] {
  const dir = resultsDir(dataDir);
  if (!existsSync(dir)) return [];
  const files: ResultFile[] = [];
  for (const name of readdirSync(dir)) {
    if (!name.endsWith('.json.obj')) continue;
    const path = join(dir, name);
    const fileId = name.slice(0, -'.json.obj'.length);
    let ino = 0;
    let doc: { jobId?: unknown; completedAt?: unknown; output?: unknown } | undefined;
    try {
      ino = statSync(path).ino;
      const raw = readFileSync(path, 'utf8');
      doc = JSON.parse(raw.slice(raw.indexOf('\n') + 1)) as typeof doc;
    } catch {
      doc = undefined;
    }
    files.push({
      fileId,
      ino,
      jobId: typeof doc?.jobId === 'string' ? doc.jobId : undefined,
      completedAt: typeof doc?.completedAt === 'string' ? doc.completedAt : undefined,
      output: doc?.output,
    });
  }
  return files;
}

/** Temp files the object store left behind (a put killed between write and rename). */
export function tmpLeftovers(dataDir: string): number {
  const dir = join(dataDir, 'objects', 'results', '.tmp');
  return existsSync(dir) ? readdirSync(dir).length : 0;
}

/** One line of `alerts.jsonl`: the topic's subject and message (a JSON string). */
export interface AlertLine {
  readonly subject: string;
  readonly message: string;
}

/** The alert outbox; lines that do not parse (a write cut by kill -9) are counted apart. */
export function readAlerts(dataDir: string): { alerts: AlertLine[]; unparsable: number } {
  const path = join(dataDir, 'alerts.jsonl');
  if (!existsSync(path)) return { alerts: [], unparsable: 0 };
  const alerts: AlertLine[] = [];
  let unparsable = 0;
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    try {
      const parsed = JSON.parse(line) as AlertLine;
      alerts.push({ subject: String(parsed.subject), message: String(parsed.message) });
    } catch {
      unparsable++;
    }
  }
  return { alerts, unparsable };
}

/** Rows of the embedded tables, read from `spool.db` with a read-only connection. */
export interface StoredRows {
  readonly jobs: number;
  readonly idempotencyKeys: number;
  readonly orders: number;
  /** Job records per status. */
  readonly jobStatuses: Readonly<Record<string, number>>;
}

/**
 * Counts the rows of the jobs and orders tables. A short-lived read-only connection (WAL
 * allows it next to the server's writer); nothing is held open between calls.
 */
export function storedRows(dataDir: string): StoredRows {
  const db = new Database(join(dataDir, 'spool.db'), { readonly: true, fileMustExist: true });
  try {
    const count = (sql: string): number => (db.prepare(sql).get() as { n: number }).n;
    const statuses = db
      .prepare("SELECT json_extract(data, '$.status') AS status, count(*) AS n FROM table_items WHERE tbl = 'jobs' AND pk LIKE 'JOB#%' GROUP BY 1")
      .all() as Array<{ status: string; n: number }>;
    return {
      jobs: count("SELECT count(*) AS n FROM table_items WHERE tbl = 'jobs' AND pk LIKE 'JOB#%'"),
      idempotencyKeys: count("SELECT count(*) AS n FROM table_items WHERE tbl = 'jobs' AND pk LIKE 'IDEMPOTENCY#%'"),
      orders: count("SELECT count(*) AS n FROM table_items WHERE tbl = 'orders'"),
      jobStatuses: Object.fromEntries(statuses.map((s) => [s.status, s.n])),
    };
  } finally {
    db.close();
  }
}
