/** ISO-8601 UTC with milliseconds, the form every SQL timestamp column holds (it sorts by time). */
export function isoTimestamp(epochMs: number): string {
  return new Date(epochMs).toISOString();
}

/**
 * `now`, or 1 ms after `previous` when the clock (this host's, or another region's) is
 * not past it, so a record's successive timestamps strictly increase and sort in the
 * order the writes happened.
 */
export function laterOf(now: string, previous: string | undefined): string {
  return previous === undefined || now > previous ? now : isoTimestamp(Date.parse(previous) + 1);
}
