import { createHash } from 'node:crypto';
import * as z from 'zod';
import { defineJobType } from './job-type.js';

/** Text, or `{ "input": text }`, or any other JSON value (processed as its JSON text); the body limit bounds its size. */
const schema = z.unknown().refine((v) => v !== undefined, 'process_data needs data: a string, {"input": string} or any JSON value');

/**
 * The recipes' `process_data`: normalises the input text and reports counts, the most
 * frequent words and a SHA-256 checksum.
 *
 * @example
 * // {"task":"process_data","data":{"input":"test data"}} produces
 * // { normalized: "test data", wordCount: 2, charCount: 9, lineCount: 1, topWords: [...], sha256: "..." }
 */
export const processData = defineJobType({
  name: 'process_data',
  description: 'Normalise text and compute word/char/line counts, top words and a SHA-256 checksum.',
  schema,
  async run(data) {
    const text = typeof data === 'string' ? data : isInputObject(data) ? data.input : JSON.stringify(data);
    const normalized = text.normalize('NFKC').replace(/\s+/g, ' ').trim().toLowerCase();
    const words = normalized.match(/[\p{L}\p{N}']+/gu) ?? [];
    const counts = new Map<string, number>();
    for (const w of words) counts.set(w, (counts.get(w) ?? 0) + 1);
    const topWords = [...counts.entries()]
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
      .slice(0, 10)
      .map(([word, count]) => ({ word, count }));
    return {
      normalized: normalized.length > 1000 ? `${normalized.slice(0, 1000)}…` : normalized,
      wordCount: words.length,
      uniqueWords: counts.size,
      charCount: [...text].length,
      lineCount: text === '' ? 0 : text.split(/\r\n|\r|\n/).length,
      topWords,
      sha256: createHash('sha256').update(text).digest('hex'),
    };
  },
});

function isInputObject(v: unknown): v is { input: string } {
  return typeof v === 'object' && v !== null && typeof (v as { input?: unknown }).input === 'string';
}
