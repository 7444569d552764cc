/** Time source; tests replace it to make time-dependent behaviour deterministic. */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
