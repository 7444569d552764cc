import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Queue } from '../../src/ports/queue.js';

/** Behaviour a backend may genuinely lack; a test that needs one is skipped by name, and reported. */
export type QueueCapability = 'staleReceiptIgnored';

export interface QueueFixture {
  /** visibility timeout 1 s, maxReceiveCount 2, for fast expiry tests. */
  readonly queue: Queue;
  dispose(): Promise<void>;
}

export interface QueueBackend {
  readonly name: string;
  readonly capabilities: ReadonlySet<QueueCapability>;
  create(): Promise<QueueFixture>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Receives until `n` messages arrived or `ms` passed. */
async function receiveAtLeast(queue: Queue, n: number, ms = 3000) {
  const out = [];
  const until = Date.now() + ms;
  while (out.length < n && Date.now() < until) out.push(...(await queue.receive({ maxMessages: 10, waitTimeSeconds: 1 })));
  return out;
}

/** The SQS semantics Spool relies on; every Queue adapter must pass it. */
export function describeQueueContract(backend: QueueBackend): void {
  const needs = (capability: QueueCapability) => (backend.capabilities.has(capability) ? it : it.skip);

  describe(`Queue contract: ${backend.name}`, () => {
    let fixture: QueueFixture;
    let queue: Queue;
    beforeEach(async () => {
      fixture = await backend.create();
      queue = fixture.queue;
    });
    afterEach(async () => fixture.dispose());

    it('delivers a sent message with its id, body and a receive count of 1', async () => {
      const [id] = await queue.send([{ body: '{"hello":"world"}' }]);
      const [message] = await receiveAtLeast(queue, 1);
      expect(message).toMatchObject({ messageId: id, body: '{"hello":"world"}', receiveCount: 1 });
      expect(message!.sentAt).toBeGreaterThan(Date.now() - 60_000);
    });

    it('hides a received message for the visibility timeout, then delivers it again with a new receipt', async () => {
      await queue.send([{ body: 'again' }]);
      const [first] = await receiveAtLeast(queue, 1);
      expect(await queue.receive({ maxMessages: 10 })).toEqual([]);
      const [second] = await receiveAtLeast(queue, 1, 4000);
      expect(second).toMatchObject({ messageId: first!.messageId, receiveCount: 2 });
      expect(second!.receiptHandle).not.toBe(first!.receiptHandle);
    });

    it('deletes a message with its latest receipt handle', async () => {
      await queue.send([{ body: 'gone' }]);
      const [message] = await receiveAtLeast(queue, 1);
      await queue.delete([message!.receiptHandle]);
      await sleep(1500);
      expect(await queue.receive({ maxMessages: 10, waitTimeSeconds: 1 })).toEqual([]);
    });

    needs('staleReceiptIgnored')('ignores a stale receipt handle: the message survives', async () => {
      await queue.send([{ body: 'stale' }]);
      const [first] = await receiveAtLeast(queue, 1);
      const [second] = await receiveAtLeast(queue, 1, 4000);
      expect(second!.messageId).toBe(first!.messageId);
      await queue.delete([first!.receiptHandle]);
      const stats = await queue.stats();
      expect(stats.inFlight).toBe(1);
    });

    it('makes a message visible at once with changeVisibility(0)', async () => {
      await queue.send([{ body: 'now' }]);
      const [first] = await receiveAtLeast(queue, 1);
      await queue.changeVisibility(first!.receiptHandle, 0);
      const again = await queue.receive({ maxMessages: 1 });
      expect(again[0]).toMatchObject({ messageId: first!.messageId, receiveCount: 2 });
    });

    it('withholds a delayed message until its delay has passed', async () => {
      await queue.send([{ body: 'later', delaySeconds: 2 }]);
      expect(await queue.receive({ maxMessages: 1, waitTimeSeconds: 1 })).toEqual([]);
      const [message] = await receiveAtLeast(queue, 1, 4000);
      expect(message?.body).toBe('later');
    });

    it('returns at most maxMessages and delivers 25 messages exactly once when each is deleted', async () => {
      const bodies = Array.from({ length: 25 }, (_, i) => `m${i}`);
      for (let i = 0; i < bodies.length; i += 10) await queue.send(bodies.slice(i, i + 10).map((body) => ({ body })));
      const seen: string[] = [];
      const until = Date.now() + 5000;
      while (seen.length < 25 && Date.now() < until) {
        const batch = await queue.receive({ maxMessages: 10, waitTimeSeconds: 1 });
        expect(batch.length).toBeLessThanOrEqual(10);
        seen.push(...batch.map((m) => m.body));
        if (batch.length > 0) await queue.delete(batch.map((m) => m.receiptHandle));
      }
      expect(seen.sort()).toEqual([...bodies].sort());
    });

    it('rejects batches over 10 entries', async () => {
      const eleven = Array.from({ length: 11 }, () => ({ body: 'x' }));
      await expect(queue.send(eleven)).rejects.toThrow(RangeError);
      await expect(queue.receive({ maxMessages: 11 })).rejects.toThrow(RangeError);
    });

    it('answers a long poll as soon as a message arrives', async () => {
      const started = Date.now();
      const polling = queue.receive({ maxMessages: 1, waitTimeSeconds: 10 });
      await sleep(300);
      await queue.send([{ body: 'wake' }]);
      const [message] = await polling;
      expect(message?.body).toBe('wake');
      expect(Date.now() - started).toBeLessThan(5000);
    });

    it('moves a message to the dead-letter queue once it was received maxReceiveCount times', async () => {
      const [id] = await queue.send([{ body: 'poison' }]);
      for (let attempt = 1; attempt <= queue.maxReceiveCount; attempt++) {
        const [message] = await receiveAtLeast(queue, 1);
        expect(message).toMatchObject({ messageId: id, receiveCount: attempt });
        await queue.changeVisibility(message!.receiptHandle, 0);
      }
      // The next receive attempt dead-letters it instead of delivering it.
      expect(await queue.receive({ maxMessages: 10, waitTimeSeconds: 1 })).toEqual([]);
      const peeked = await waitForDeadLetters(queue, 1);
      expect(peeked.map((m) => m.body)).toEqual(['poison']);
      // Peeking does not consume.
      expect((await waitForDeadLetters(queue, 1)).map((m) => m.body)).toEqual(['poison']);
    });

    it('redrives dead letters back to the queue, where they are delivered again', async () => {
      await queue.send([{ body: 'redriven' }]);
      for (let attempt = 1; attempt <= queue.maxReceiveCount; attempt++) {
        const [message] = await receiveAtLeast(queue, 1);
        await queue.changeVisibility(message!.receiptHandle, 0);
      }
      await queue.receive({ maxMessages: 10, waitTimeSeconds: 1 });
      await waitForDeadLetters(queue, 1);
      expect(await queue.redrive()).toBe(1);
      const [message] = await receiveAtLeast(queue, 1, 5000);
      expect(message?.body).toBe('redriven');
      expect((await queue.stats()).deadLetters).toBe(0);
    });

    it('reports visible, in-flight and delayed messages', async () => {
      await queue.send([{ body: 'a' }, { body: 'b' }, { body: 'c', delaySeconds: 60 }]);
      expect(await queue.receive({ maxMessages: 1, waitTimeSeconds: 1, visibilityTimeoutSeconds: 60 })).toHaveLength(1);
      const stats = await waitFor(() => queue.stats(), (s) => s.visible + s.inFlight + s.delayed === 3);
      expect(stats).toMatchObject({ inFlight: 1, delayed: 1, visible: 1, deadLetters: 0 });
    });
  });
}

async function waitFor<T>(read: () => Promise<T>, ok: (v: T) => boolean, ms = 5000): Promise<T> {
  const until = Date.now() + ms;
  let value = await read();
  while (!ok(value) && Date.now() < until) {
    await sleep(100);
    value = await read();
  }
  return value;
}

// SQS reports moved messages with a short lag; the embedded engine at once.
function waitForDeadLetters(queue: Queue, n: number) {
  return waitFor(() => queue.peekDeadLetters(10), (m) => m.length >= n);
}
