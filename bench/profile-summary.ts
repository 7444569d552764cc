import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

/** The parts of a V8 `.cpuprofile` (from `node --cpu-prof`) used here. */
interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }>;
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileSummary {
  readonly totalMs: number;
  /** Self time by function, highest first. */
  readonly functions: Array<{ name: string; ms: number; share: number }>;
  /** Self time by where the code lives (a package, a src/ file, node internals, idle, GC). */
  readonly places: Array<{ name: string; ms: number; share: number }>;
  /** Inclusive time of functions in src/, highest first. */
  readonly srcInclusive: Array<{ name: string; ms: number; share: number }>;
}

function place(url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : `(native) ${functionName}`;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg !== null) return pkg[1]!;
  const src = /\/(src\/.*|bench\/.*)$/.exec(url);
  if (src !== null) return src[1]!;
  if (url.startsWith('node:')) return 'node internals';
  return url;
}

/** Self and inclusive times from a `.cpuprofile` file. */
export function summarizeProfile(path: string, top = 25): ProfileSummary {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000));
  const totalMs = (profile.endTime - profile.startTime) / 1000;

  const label = (id: number) => {
    const f = byId.get(id)!.callFrame;
    const where = place(f.url, f.functionName);
    return f.url === '' ? where : `${f.functionName || '(anonymous)'} ${where}:${f.lineNumber + 1}`;
  };
  const functions = new Map<string, number>();
  const places = new Map<string, number>();
  const inclusive = new Map<string, number>();
  for (const [id, t] of self) {
    const f = byId.get(id)!.callFrame;
    functions.set(label(id), (functions.get(label(id)) ?? 0) + t);
    const p = place(f.url, f.functionName);
    places.set(p, (places.get(p) ?? 0) + t);
    // Inclusive: credit each distinct src/ frame on the stack once.
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at)!.callFrame;
      if (!/\/src\//.test(frame.url)) continue;
      const name = label(at);
      if (seen.has(name)) continue;
      seen.add(name);
      inclusive.set(name, (inclusive.get(name) ?? 0) + t);
    }
  }
  const rank = (m: Map<string, number>) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, t]) => ({ name, ms: t, share: t / totalMs }));
  return { totalMs, functions: rank(functions), places: rank(places), srcInclusive: rank(inclusive) };
}

export function formatProfile(summary: ProfileSummary): string {
  const rows = (title: string, items: ProfileSummary['functions']) => [
    title,
    ...items.map((x) => `  ${(x.share * 100).toFixed(1).padStart(5)}%  ${x.ms.toFixed(0).padStart(7)} ms  ${x.name}`),
  ];
  return [
    `profile: ${(summary.totalMs / 1000).toFixed(1)} s wall`,
    ...rows('self time by place:', summary.places.slice(0, 15)),
    ...rows('self time by function:', summary.functions),
    ...rows('inclusive time, src/ functions:', summary.srcInclusive.slice(0, 15)),
  ].join('\n');
}

// CLI: tsx bench/profile-summary.ts <file.cpuprofile> [top]
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const file = process.argv[2];
  if (file === undefined) {
    process.stderr.write('usage: tsx bench/profile-summary.ts <file.cpuprofile> [top]\n');
    process.exit(2);
  }
  process.stdout.write(`${formatProfile(summarizeProfile(file, Number(process.argv[3] ?? 25)))}\n`);
}
