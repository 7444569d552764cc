/**
 * The documented request contracts (README, job-type table), written independently of the
 * server's zod schemas, so the fuzz test and the chaos harness can tell "accepted something
 * invalid" from "rejected something valid".
 */
import { MAX_DELAY_SECONDS } from '../../src/ports/queue.js';
import type { FuzzRequest } from './request-arbitraries.js';

const SUBMIT_FIELDS = ['task', 'data', 'delaySeconds', 'callbackUrl'];
const CURRENCIES = new Set(Intl.supportedValuesOf('currency'));
/** Job data may nest at most this deep. */
const MAX_DATA_DEPTH = 32;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const onlyKeys = (v: Record<string, unknown>, keys: readonly string[]) => Object.keys(v).every((k) => keys.includes(k));
const isIntIn = (v: unknown, min: number, max: number) => Number.isInteger(v) && (v as number) >= min && (v as number) <= max;

function parseJson(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function depth(value: unknown): number {
  if (typeof value !== 'object' || value === null) return 0;
  return 1 + Math.max(0, ...Object.values(value).map(depth));
}

/** A job submission the documentation says must be accepted (with a JSON content type). */
export function meetsSubmitContract(request: FuzzRequest): boolean {
  const body = parseJson(request.body);
  if (!isRecord(body) || !onlyKeys(body, SUBMIT_FIELDS)) return false;
  const { task = 'process_data', data, delaySeconds, callbackUrl } = body;
  if (delaySeconds !== undefined && !isIntIn(delaySeconds, 0, MAX_DELAY_SECONDS)) return false;
  if (callbackUrl !== undefined && !(typeof callbackUrl === 'string' && /^https?:\/\/[^/]/i.test(callbackUrl) && callbackUrl.length <= 2048)) return false;
  if (depth(data) > MAX_DATA_DEPTH) return false;
  switch (task) {
    case 'process_data':
      return data !== undefined;
    case 'echo':
      return true;
    case 'sleep':
      return isRecord(data) && onlyKeys(data, ['ms']) && isIntIn(data['ms'], 0, 30_000);
    case 'fail':
      return data === undefined || (isRecord(data) && onlyKeys(data, ['message']) && typeof data['message'] === 'string' && data['message'].length >= 1 && data['message'].length <= 1000);
    default:
      return false;
  }
}

/** An order the documentation says must be accepted: amount > 0, <= 1e9, whole cents; ISO 4217 currency; nothing else. */
export function meetsOrderContract(request: FuzzRequest): boolean {
  const body = parseJson(request.body);
  if (!isRecord(body) || !onlyKeys(body, ['amount', 'currency'])) return false;
  const { amount, currency } = body;
  const amountOk = typeof amount === 'number' && Number.isFinite(amount) && amount > 0 && amount <= 1e9 && Math.round(amount * 100) / 100 === amount;
  const currencyOk = typeof currency === 'string' && /^[A-Z]{3}$/.test(currency) && CURRENCIES.has(currency);
  return amountOk && currencyOk;
}
