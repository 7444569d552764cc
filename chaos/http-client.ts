/** A response as the harness looks at it. */
export interface Reply {
  readonly status: number;
  readonly contentType: string;
  readonly text: string;
  /** The body parsed as JSON; undefined when it is not JSON. */
  readonly json: unknown;
}

export interface RequestOptions {
  readonly method?: 'GET' | 'POST';
  /** Raw body; undefined sends none. */
  readonly body?: string;
  readonly headers?: Record<string, string>;
  /** Every request is bounded in time: rejects after this. */
  readonly timeoutMs?: number;
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** One HTTP request; rejects on a transport error (refused, reset, timed out). */
export async function request(url: string, options: RequestOptions = {}): Promise<Reply> {
  const response = await fetch(url, {
    method: options.method ?? (options.body === undefined ? 'GET' : 'POST'),
    headers: options.headers,
    body: options.body,
    signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
  });
  const text = await response.text();
  return { status: response.status, contentType: response.headers.get('content-type') ?? '', text, json: parse(text) };
}

export const postJson = (url: string, body: unknown, timeoutMs?: number): Promise<Reply> =>
  request(url, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' }, ...(timeoutMs === undefined ? {} : { timeoutMs }) });

export const getJson = (url: string, timeoutMs?: number): Promise<Reply> => request(url, timeoutMs === undefined ? {} : { timeoutMs });

export const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `{"error": {"code", "message"}}`, the documented error body. */
export const isErrorBody = (v: unknown): boolean =>
  isRecord(v) && isRecord(v['error']) && typeof v['error']['code'] === 'string' && typeof v['error']['message'] === 'string';

/** Stats of one queue from `GET /admin/queues`. */
export interface QueueStats {
  readonly name: string;
  readonly visible: number;
  readonly inFlight: number;
  readonly delayed: number;
  readonly deadLetters: number;
}

export async function queueStats(url: string, name: string): Promise<QueueStats> {
  const reply = await getJson(`${url}/admin/queues`);
  const queues = (reply.json as { queues?: QueueStats[] } | undefined)?.queues ?? [];
  const found = queues.find((q) => q.name === name);
  if (reply.status !== 200 || found === undefined) throw new Error(`GET /admin/queues: ${reply.status} ${reply.text.slice(0, 200)}`);
  return found;
}
