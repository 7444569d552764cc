/** One invariant, checked. */
export interface Check {
  readonly name: string;
  readonly ok: boolean;
  /** The numbers behind the verdict, or the first offending ids. */
  readonly detail: string;
}

/** What a scenario hands back: its counts, its checks, and whether all held. */
export interface ScenarioResult {
  readonly name: string;
  readonly ok: boolean;
  readonly durationMs: number;
  /** Named counts, printed in the summary and asserted by the CI test. */
  readonly counts: Readonly<Record<string, number>>;
  readonly checks: readonly Check[];
  /** Observations that are not invariants (redeliveries, leftovers, the seed). */
  readonly notes: readonly string[];
}

/** Collects checks and counts while a scenario runs. */
export class ScenarioLog {
  private readonly started = Date.now();
  readonly checks: Check[] = [];
  readonly counts: Record<string, number> = {};
  readonly notes: string[] = [];

  constructor(readonly name: string) {}

  check(name: string, ok: boolean, detail: string): void {
    this.checks.push({ name, ok, detail });
  }

  /** Records that the scenario could not run to the end (a harness or server failure). */
  aborted(error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    this.check('scenario ran to completion', false, message.slice(0, 600));
  }

  /** True when at least one check ran and every check held. */
  allOk(): boolean {
    return this.checks.length > 0 && this.checks.every((c) => c.ok);
  }

  result(): ScenarioResult {
    return {
      name: this.name,
      ok: this.allOk(),
      durationMs: Date.now() - this.started,
      counts: { ...this.counts },
      checks: [...this.checks],
      notes: [...this.notes],
    };
  }
}

/** The first few items of a list, for a check's detail. */
export const firstFew = (items: Iterable<string>, n = 3): string => {
  const list = [...items];
  return list.length === 0 ? '' : `${list.slice(0, n).join(', ')}${list.length > n ? `, ... (${list.length})` : ''}`;
};

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

/** The printed summary: one row per scenario, then every check, then the notes. */
export function formatSummary(results: readonly ScenarioResult[], mode: string, seed: number, totalMs: number): string {
  const overview = table(
    ['scenario', 'result', 'time', 'counts'],
    results.map((r) => [
      r.name,
      r.ok ? 'PASS' : 'FAIL',
      `${(r.durationMs / 1000).toFixed(1)} s`,
      Object.entries(r.counts)
        .map(([k, v]) => `${k}=${Number.isInteger(v) ? v : v.toFixed(2)}`)
        .join(' '),
    ]),
  );
  const checks = table(
    ['scenario', 'invariant', 'ok', 'detail'],
    results.flatMap((r) => r.checks.map((c) => [r.name, c.name, c.ok ? 'yes' : 'NO', c.detail])),
  );
  const notes = results.flatMap((r) => r.notes.map((n) => `- ${r.name}: ${n}`));
  const failed = results.filter((r) => !r.ok).map((r) => r.name);
  return [
    `Chaos run: ${mode} mode, seed ${seed}, ${(totalMs / 1000).toFixed(1)} s`,
    '',
    overview,
    '',
    checks,
    ...(notes.length > 0 ? ['', 'Notes:', ...notes] : []),
    '',
    failed.length === 0 ? 'All invariants held.' : `INVARIANTS VIOLATED in: ${failed.join(', ')}`,
  ].join('\n');
}
