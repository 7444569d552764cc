import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import * as z from 'zod';
import { jsonResponse } from '../openapi-common.js';

/** A probe of one backend; resolves when it answers. */
export type HealthCheck = () => Promise<unknown>;

const HealthView = z.object({
  status: z.enum(['ok', 'degraded']),
  version: z.string(),
  backend: z.string(),
  region: z.string().optional(),
  uptimeSeconds: z.number(),
  checks: z.record(z.string(), z.object({ status: z.enum(['ok', 'error']), latencyMs: z.number(), error: z.string().optional() })),
});

const health = createRoute({
  method: 'get',
  path: '/health',
  tags: ['health'],
  summary: 'Version, uptime and the state of each backend',
  responses: { 200: jsonResponse('Healthy', HealthView), 503: jsonResponse('A backend failed its check', HealthView) },
});

export interface HealthInfo {
  readonly version: string;
  readonly backend: string;
  readonly region?: string;
  readonly startedAt: number;
  readonly checks: Readonly<Record<string, HealthCheck>>;
}

/** `GET /health`: 200 when every backend answers its probe within 2 s, else 503. */
export function registerHealthRoute(app: OpenAPIHono, info: HealthInfo): void {
  app.openapi(health, async (c) => {
    const entries = await Promise.all(
      Object.entries(info.checks).map(async ([name, check]) => {
        const started = performance.now();
        try {
          await Promise.race([check(), new Promise((_, reject) => setTimeout(() => reject(new Error('timed out after 2 s')), 2000).unref())]);
          return [name, { status: 'ok' as const, latencyMs: Math.round(performance.now() - started) }] as const;
        } catch (error) {
          return [name, { status: 'error' as const, latencyMs: Math.round(performance.now() - started), error: String(error) }] as const;
        }
      }),
    );
    const checks = Object.fromEntries(entries);
    const ok = entries.every(([, r]) => r.status === 'ok');
    const view = {
      status: ok ? ('ok' as const) : ('degraded' as const),
      version: info.version,
      backend: info.backend,
      ...(info.region === undefined ? {} : { region: info.region }),
      uptimeSeconds: Math.round((Date.now() - info.startedAt) / 1000),
      checks,
    };
    return ok ? c.json(view, 200) : c.json(view, 503);
  });
}
