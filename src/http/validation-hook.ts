import type { z } from 'zod';
import { ValidationError } from '../errors.js';

/** zod-openapi's hook: turns a failed validation into our ValidationError, with the issues as details. */
export function validationHook(result: { success: true } | { success: false; error: z.ZodError; target?: string }): void {
  if (!result.success) {
    const issues = result.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message, code: i.code }));
    throw new ValidationError(`invalid request ${result.target ?? 'input'}`, issues);
  }
}
