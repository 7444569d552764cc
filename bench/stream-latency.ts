import type { ChildServer } from './child-server.js';
import type { Mode, Section } from './report.js';
import { fmt, ms, summarize } from './stats.js';

const P99_TARGET_MS = 100;

/**
 * Figure 9: how soon a task change reaches a connected `/tasks/stream` client. One client
 * holds the stream open; the benchmark PATCHes a task at a fixed pace and times each change
 * from sending the PATCH to reading its SSE message (matched by the new title), on an
 * otherwise idle server.
 */
export async function streamLatency(server: ChildServer, mode: Mode): Promise<Section> {
  const count = mode === 'quick' ? 100 : 500;
  const gapMs = 20;
  const timeLimitMs = mode === 'quick' ? 20_000 : 60_000;
  const abort = new AbortController();
  const deadline = setTimeout(() => abort.abort(), timeLimitMs + 10_000);
  try {
    const task = await json(await fetch(`${server.url}/tasks`, post({ title: 'stream bench', created_by: 'bench@example.com' })));
    const taskId = String(task['id']);
    const response = await fetch(`${server.url}/tasks/stream?taskId=${taskId}`, { headers: { accept: 'text/event-stream' }, signal: abort.signal });
    if (!response.ok || response.body === null) throw new Error(`GET /tasks/stream answered ${response.status}`);
    const arrivals = new Map<string, number>();
    let wake: (() => void) | undefined;
    const reading = readTitles(response.body, (title) => {
      arrivals.set(title, performance.now());
      wake?.();
    });

    const samples: number[] = [];
    const started = performance.now();
    for (let i = 0; i < count && performance.now() - started < timeLimitMs; i++) {
      const title = `change ${i}`;
      const sentAt = performance.now();
      const patched = await fetch(`${server.url}/tasks/${taskId}`, { ...post({ title }), method: 'PATCH' });
      if (patched.status !== 200) throw new Error(`PATCH answered ${patched.status}`);
      await patched.arrayBuffer();
      const arrived = await waitFor(() => arrivals.get(title), (resolve) => (wake = resolve), 5_000);
      if (arrived === undefined) throw new Error(`change ${i} did not arrive on the stream within 5 s`);
      samples.push(arrived - sentAt);
      await new Promise((resolve) => setTimeout(resolve, gapMs));
    }
    abort.abort();
    await reading.catch(() => undefined);

    const s = summarize(samples);
    return {
      title: '9. Task change -> stream client',
      method: [
        `One client holds \`GET /tasks/stream?taskId=…\` open; the benchmark sends ${fmt(count, 0)} PATCHes of one task, ${gapMs} ms apart`,
        '(each after the previous one arrived), and times each from sending the PATCH to reading its SSE message. This includes',
        'the PATCH itself (one SQL transaction), the after-commit signal and the stream\'s read of the activity history.',
      ].join('\n'),
      figures: [
        {
          id: '9',
          name: 'Task change reaches a stream client, p99',
          value: ms(s.p99),
          target: `<= ${P99_TARGET_MS} ms`,
          met: s.count > 0 && s.p99 <= P99_TARGET_MS,
          details: [`${fmt(s.count, 0)} changes: p50 ${ms(s.p50)}, p90 ${ms(s.p90)}, max ${ms(s.max)}`],
        },
      ],
    };
  } finally {
    clearTimeout(deadline);
    abort.abort();
  }
}

function post(body: unknown): RequestInit {
  return { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

async function json(response: Response): Promise<Record<string, unknown>> {
  const body = (await response.json()) as Record<string, unknown>;
  if (!response.ok) throw new Error(`${response.status} ${JSON.stringify(body).slice(0, 200)}`);
  return body;
}

/** Reads SSE messages and reports the task title each one changed to. */
async function readTitles(body: ReadableStream<Uint8Array>, onTitle: (title: string) => void): Promise<void> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = block
        .split('\n')
        .filter((line) => line.startsWith('data:'))
        .map((line) => line.slice(5).trimStart())
        .join('\n');
      if (data === '') continue;
      const title = (JSON.parse(data) as { changes?: { title?: { to?: unknown } } }).changes?.title?.to;
      if (typeof title === 'string') onTitle(title);
    }
  }
}

/** Resolves with `read()` once it is defined (re-checked on each wake-up), or undefined after `ms`. */
async function waitFor<T>(read: () => T | undefined, onWake: (resolve: () => void) => void, ms: number): Promise<T | undefined> {
  const until = performance.now() + ms;
  for (let i = 0; i < 10_000; i++) {
    const value = read();
    if (value !== undefined) return value;
    const left = until - performance.now();
    if (left <= 0) return undefined;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, left);
      onWake(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
  return undefined;
}
