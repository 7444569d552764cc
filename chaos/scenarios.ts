import { badInput } from './bad-input.js';
import { crashLoop } from './crash-loop.js';
import type { ModeSettings } from './modes.js';
import { poisonRedrive } from './poison-redrive.js';
import type { ScenarioResult } from './report.js';
import { soak } from './soak.js';

/** Every scenario, in the order a run takes them. */
export const SCENARIOS: ReadonlyArray<{ readonly name: string; readonly run: (settings: ModeSettings, seed: number) => Promise<ScenarioResult> }> = [
  { name: 'crash-loop', run: (s, seed) => crashLoop({ ...s.crashLoop, seed }) },
  { name: 'poison-redrive', run: (s, seed) => poisonRedrive({ ...s.poisonRedrive, seed }) },
  { name: 'soak', run: (s, seed) => soak({ ...s.soak, seed }) },
  { name: 'bad-input', run: (s, seed) => badInput({ ...s.badInput, seed }) },
];
