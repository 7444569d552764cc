import { pino } from 'pino';
import { describe, expect, it, vi } from 'vitest';
import type { Queue } from '../../src/ports/queue.js';
import type { Notification, Topic } from '../../src/ports/topic.js';
import { processBatch, type BatchPolicy, type QueueRecord } from '../../src/workers/queue-record.js';

function fixture(maxReceiveCount = 3) {
  const changeVisibility = vi.fn(async (_handle: string, _seconds: number) => undefined);
  const published: Notification[] = [];
  const queue = { name: 'jobs', maxReceiveCount, changeVisibility } as unknown as Queue;
  const alerts: Topic = { name: 'alerts', publish: async (n) => (published.push(n), 'id') };
  const policy: BatchPolicy = { queue, alerts, logger: pino({ level: 'silent' }), retryBaseSeconds: 2, maxRetryDelaySeconds: 300 };
  return { policy, changeVisibility, published };
}

const rec = (id: string, receiveCount = 1): QueueRecord => ({ messageId: id, body: `{"id":"${id}"}`, receiptHandle: `h-${id}`, receiveCount });

describe('processBatch (Lambda partial batch responses)', () => {
  it('reports only the failed records', async () => {
    const { policy } = fixture();
    const response = await processBatch([rec('a'), rec('b'), rec('c')], async (r) => {
      if (r.messageId === 'b') throw new Error('no');
    }, policy);
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'b' }] });
  });

  it('delays a retry by exponential backoff instead of the whole visibility timeout', async () => {
    const { policy, changeVisibility, published } = fixture();
    await processBatch([rec('a', 1), rec('b', 2)], async () => Promise.reject(new Error('x')), policy);
    expect(changeVisibility.mock.calls).toEqual(expect.arrayContaining([['h-a', 2], ['h-b', 4]]));
    expect(published).toEqual([]);
  });

  it('publishes exactly one alert when the last attempt fails, and makes the message visible for dead-lettering', async () => {
    const { policy, changeVisibility, published } = fixture(3);
    await processBatch([rec('a', 3)], async () => Promise.reject(new Error('boom')), policy);
    expect(published).toHaveLength(1);
    expect(JSON.parse(published[0]!.message)).toMatchObject({ kind: 'dead-lettered', queue: 'jobs', messageId: 'a', attempts: 3, error: 'boom' });
    expect(changeVisibility).toHaveBeenCalledWith('h-a', 0);
  });

  it('still reports the failure when the retry policy itself fails', async () => {
    const { policy, changeVisibility } = fixture();
    changeVisibility.mockRejectedValueOnce(new Error('queue down'));
    const response = await processBatch([rec('a')], async () => Promise.reject(new Error('x')), policy);
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'a' }]);
  });
});
