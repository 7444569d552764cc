import autocannon from 'autocannon';
import { describeProbe, type ChildServer } from './child-server.js';
import type { Mode, Section } from './report.js';
import { backlogOf, queueStats, sampleStatuses, waitForJobsDrained } from './spool-client.js';
import { fmt, rate } from './stats.js';

const TARGET = 3_000;
const MAX_IDS = 100_000;

export interface ThroughputOutcome {
  readonly section: Section;
  /** Ids of accepted jobs (up to 100,000), for the GET latency runs. */
  readonly jobIds: string[];
}

/**
 * Figure 3: `POST /submit` with autocannon (closed loop, many connections) against the
 * server child, then wait until the jobs queue is empty. Jobs/s = accepted jobs / time
 * from the first submit to the moment the queue was seen empty.
 */
export async function httpThroughput(server: ChildServer, mode: Mode): Promise<ThroughputOutcome> {
  const connections = 64;
  const durationMs = mode === 'quick' ? 5_000 : 30_000;
  const maxRequests = mode === 'quick' ? 60_000 : 400_000;
  const drainTimeoutMs = mode === 'quick' ? 60_000 : 300_000;
  const jobIds: string[] = [];
  let n = 0;
  let accepted = 0;

  // Sample the backlog while submitting, for the completion rate during the submit phase.
  const samples: Array<{ at: number; accepted: number; backlog: number }> = [];
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const before = accepted;
      const backlog = backlogOf((await queueStats(server.url)).get('jobs'));
      samples.push({ at: performance.now(), accepted: before, backlog });
      await new Promise((r) => setTimeout(r, 500));
    }
  })();

  const cpu0 = server.cpuTime();
  const probe0 = await server.probe();
  const started = performance.now();
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: server.url,
        connections,
        amount: maxRequests,
        timeout: 30,
        requests: [
          {
            method: 'POST',
            path: '/submit',
            headers: { 'content-type': 'application/json' },
            setupRequest: (req) => ({ ...req, body: JSON.stringify({ task: 'echo', data: { i: n++ } }) }),
            onResponse: (status, body) => {
              if (status !== 202) return;
              accepted++;
              if (jobIds.length < MAX_IDS) jobIds.push((JSON.parse(body) as { jobId: string }).jobId);
            },
          },
        ],
      },
      (error, res) => {
        clearTimeout(timer);
        if (error) reject(error instanceof Error ? error : new Error(String(error)));
        else resolve(res);
      },
    );
    // Count bound is `amount`; this is the time bound.
    const timer = setTimeout(() => instance.stop(), durationMs);
  });
  const submitted = performance.now();
  sampling = false;
  await sampler;
  const backlogAtEnd = backlogOf((await queueStats(server.url)).get('jobs'));
  const drained = await waitForJobsDrained(server.url, drainTimeoutMs);
  const cpu1 = server.cpuTime();
  const probe1 = await server.probe();
  const probedMs = performance.now() - started;
  const statuses = await sampleStatuses(server.url, jobIds, 200);
  const completedInSample = statuses['completed'] ?? 0;
  const sampled = Object.values(statuses).reduce((s, v) => s + v, 0);

  const endToEndMs = (drained?.at ?? performance.now()) - started;
  const jobsPerSecond = drained === undefined ? 0 : rate(accepted, endToEndMs);
  const submitMs = submitted - started;
  // Completion rate while submitting: jobs completed (accepted - backlog) between the first and last sample.
  const first = samples[0];
  const last = samples[samples.length - 1];
  const duringSubmit =
    first !== undefined && last !== undefined && last.at > first.at ? rate(last.accepted - last.backlog - (first.accepted - first.backlog), last.at - first.at) : Number.NaN;
  const drainRate = drained === undefined ? Number.NaN : rate(backlogAtEnd, drained.at - submitted);
  const latency = result.latency;

  return {
    jobIds,
    section: {
      title: '3. End to end over HTTP: POST /submit to completed',
      method: [
        'Spool runs in a child process (`node --import tsx src/runtime/local/main.ts`, HOST=127.0.0.1, PORT=0,',
        'LOG_LEVEL=warn, fresh SPOOL_DATA_DIR, default settings: 4 job workers, batches of 10), so the load',
        `generator has its own event loop. autocannon (programmatic, closed loop, ${connections} keep-alive connections)`,
        'sends `POST /submit` with `{"task":"echo","data":{"i":n}}` until its count bound',
        `(${fmt(maxRequests)} requests) or time bound (${durationMs / 1000} s); the benchmark then polls \`GET /admin/queues\``,
        'every 100 ms until the `jobs` queue has nothing visible, in flight or delayed (a job\'s message is deleted',
        'only after its handler finished, i.e. after the job was marked `completed`). The figure is accepted (202)',
        'jobs / time from the first submit to that moment. A random sample of 200 accepted job ids is then read',
        'back with `GET /status/{id}` to confirm they are `completed`.',
      ].join('\n'),
      figures: [
        {
          id: '3',
          name: 'End to end: POST /submit -> completed',
          value: `${fmt(jobsPerSecond)} jobs/s`,
          target: `>= ${fmt(TARGET)} jobs/s`,
          met: drained !== undefined && jobsPerSecond >= TARGET && completedInSample === sampled && result.non2xx === 0 && result.errors === 0,
          details: [
            `${fmt(accepted)} jobs accepted in ${fmt(submitMs / 1000, 1)} s (${fmt(rate(accepted, submitMs))} submits/s; autocannon latency p50 ${latency.p50} ms, ` +
              `p99 ${latency.p99} ms, max ${latency.max} ms; non-2xx ${result.non2xx}, errors ${result.errors}, timeouts ${result.timeouts})`,
            `completion rate while submitting ${fmt(duringSubmit)} jobs/s; backlog when submits stopped ${fmt(backlogAtEnd)}, drained at ${fmt(drainRate)} jobs/s`,
            drained === undefined
              ? `queue NOT drained within ${drainTimeoutMs / 1000} s`
              : `all done ${fmt(endToEndMs / 1000, 1)} s after the first submit; dead letters ${drained.deadLetters}`,
            `server CPU per job (submit + processing + queue polling): ${fmt((cpu1.processMs - cpu0.processMs) / Math.max(1, accepted), 3)} ms, ` +
              `of which main thread ${fmt((cpu1.mainThreadMs - cpu0.mainThreadMs) / Math.max(1, accepted), 3)} ms ` +
              `(a single-threaded ceiling of ~${fmt(1000 / Math.max(0.001, (cpu1.mainThreadMs - cpu0.mainThreadMs) / Math.max(1, accepted)))} jobs/s)`,
            ...describeProbe(probe0, probe1, probedMs),
            `status sample: ${Object.entries(statuses).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'} of ${sampled}`,
          ],
        },
      ],
    },
  };
}
