import { PreconditionFailedError } from '../../errors.js';

/**
 * What a conditional write asks for (the HTTP edge parses it from `If-Match`): that the
 * record exists at all (`*`), or that its current version is one of `versions`. Checked
 * inside the write's transaction, against the row that transaction read, so "check, then
 * write" is atomic: a concurrent writer makes the transaction retry, and the retry sees
 * the new version and fails the check.
 */
export type VersionPrecondition = { readonly kind: 'any' } | { readonly kind: 'versions'; readonly versions: readonly number[] };

/** Throws {@link PreconditionFailedError} (412) when `current` does not satisfy `precondition`. */
export function checkVersion(precondition: VersionPrecondition | undefined, current: number, what: string): void {
  if (precondition === undefined || precondition.kind === 'any') return;
  if (precondition.versions.includes(current)) return;
  throw new PreconditionFailedError(`${what} is at version ${current}, not the one If-Match names`, { currentVersion: current });
}
